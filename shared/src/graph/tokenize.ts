// A SQL tokenizer for the three dialects Pipebook compiles to. It never throws: the editor calls it on half-typed
// text, so an unterminated string or comment becomes one token flagged `unterminated` running to the end of input.
//
// Why not a parser package: node-sql-parser and its peers each cover one flavour of quoting well and the others
// partly (Snowflake `$$...$$` strings and backslash escapes, Spark backtick identifiers with doubled backticks and
// `"..."` strings, DuckDB nested comments and `$tag$...$tag$` strings), they reject the half-typed SQL an editor holds,
// and finding references only needs tokens plus a little structure (FROM/JOIN positions, CTE names).
import type { Dialect } from '../compile/dialect.ts';

export type TokenKind =
  /** Unquoted word: keyword or identifier. `value` is the text. */
  | 'word'
  /** Quoted identifier ("x" in duckdb/snowflake, `x` in databricks). `value` is the unescaped name. */
  | 'quoted'
  /** String literal, including $$...$$ and prefixed forms (E'..', r'..'). `value` is the unescaped text. */
  | 'string'
  | 'number'
  /** Operators and punctuation: ( ) , ; . and multi-character operators such as :: <= || ->. */
  | 'op'
  /** Bind parameters and variables: ?, $1, :name, $name. */
  | 'param'
  | 'comment'
  | 'space';

export interface Token {
  kind: TokenKind;
  /** Offsets into the source, `end` exclusive. */
  start: number;
  end: number;
  text: string;
  value: string;
  /** The quote character of a quoted identifier or string. */
  quote?: string;
  /** A string, quoted identifier or block comment with no closing delimiter. */
  unterminated?: boolean;
}

const MULTI_OPS = [
  '->>',
  '<=>',
  '::',
  '<=',
  '>=',
  '<>',
  '!=',
  '==',
  '||',
  '->',
  '=>',
  '**',
  '//',
  '<<',
  '>>',
  '@>',
  '<@',
];

const OPS3 = new Set(MULTI_OPS.filter((o) => o.length === 3));
const OPS2 = new Set(MULTI_OPS.filter((o) => o.length === 2));

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
}

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}_$]/u;
function isIdentStart(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  return IDENT_START.test(ch);
}
function isIdentPart(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
  return IDENT_PART.test(ch);
}
function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

interface Options {
  /** Keep whitespace and comment tokens (the default drops them). */
  trivia?: boolean;
}

/** The string-literal quote rules of each dialect. */
function stringEscapes(dialect: Dialect): { backslash: boolean; doubleQuoteIsString: boolean } {
  switch (dialect) {
    case 'duckdb':
      return { backslash: false, doubleQuoteIsString: false };
    case 'snowflake':
      return { backslash: true, doubleQuoteIsString: false };
    case 'databricks':
      return { backslash: true, doubleQuoteIsString: true };
  }
}

const BACKSLASH_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', Z: '\x1a' };

export function tokenize(sql: string, dialect: Dialect = 'duckdb', opts: Options = {}): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  const rules = stringEscapes(dialect);
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value: string, extra?: Partial<Token>) => {
    if (!opts.trivia && (kind === 'space' || kind === 'comment')) return;
    out.push({ kind, start, end, text: sql.slice(start, end), value, ...extra });
  };

  // A quoted run starting at `start` (the opening quote at `start + prefix`). Doubled quotes always escape; a
  // backslash escapes the next character when `backslash` is set.
  const quoted = (start: number, prefix: number, q: string, backslash: boolean) => {
    let j = start + prefix + 1;
    let value = '';
    while (j < n) {
      const ch = sql[j];
      if (backslash && ch === '\\' && j + 1 < n) {
        const next = sql[j + 1];
        value += BACKSLASH_ESCAPES[next] ?? next;
        j += 2;
        continue;
      }
      if (ch === q) {
        if (sql[j + 1] === q) {
          value += q;
          j += 2;
          continue;
        }
        return { end: j + 1, value, unterminated: false };
      }
      value += ch;
      j++;
    }
    return { end: n, value, unterminated: true };
  };

  while (i < n) {
    const ch = sql[i];
    const start = i;
    // whitespace
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\u00a0') {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      push('space', start, i, '');
      continue;
    }
    // line comments: -- everywhere, // in Snowflake
    if ((ch === '-' && sql[i + 1] === '-') || (dialect === 'snowflake' && ch === '/' && sql[i + 1] === '/')) {
      while (i < n && sql[i] !== '\n') i++;
      push('comment', start, i, '');
      continue;
    }
    // block comments; DuckDB (Postgres grammar) and Spark nest them, Snowflake does not
    if (ch === '/' && sql[i + 1] === '*') {
      const nests = dialect !== 'snowflake';
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else if (nests && sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else i++;
      }
      push('comment', start, i, '', depth > 0 ? { unterminated: true } : undefined);
      continue;
    }
    // dollar-quoted strings: $$...$$ (all three accept it in some form) and $tag$...$tag$ (duckdb)
    if (ch === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (m && (m[1] === undefined || dialect === 'duckdb')) {
        const delim = m[0];
        const close = sql.indexOf(delim, i + delim.length);
        const end = close === -1 ? n : close + delim.length;
        const value = sql.slice(i + delim.length, close === -1 ? n : close);
        push('string', start, end, value, { quote: delim, ...(close === -1 ? { unterminated: true } : {}) });
        i = end;
        continue;
      }
      // $1 positional parameter, $name variable
      i++;
      while (i < n && isIdentPart(sql[i])) i++;
      push('param', start, i, sql.slice(start, i));
      continue;
    }
    // prefixed strings: E'..' (duckdb, backslash escapes), r'..' / r".." (Spark raw, no escapes), X'..' / B'..'
    if (
      (ch === 'E' || ch === 'e' || ch === 'r' || ch === 'R' || ch === 'x' || ch === 'X' || ch === 'b' || ch === 'B') &&
      (sql[i + 1] === "'" || (dialect === 'databricks' && sql[i + 1] === '"'))
    ) {
      const lower = ch.toLowerCase();
      const applies =
        (lower === 'e' && dialect === 'duckdb') ||
        (lower === 'r' && dialect === 'databricks') ||
        lower === 'x' ||
        lower === 'b';
      if (applies && (sql[i + 1] === "'" || dialect === 'databricks')) {
        const q = sql[i + 1];
        const backslash = lower === 'e' || (lower !== 'r' && rules.backslash);
        const r = quoted(start, 1, q, backslash);
        push('string', start, r.end, r.value, { quote: q, ...(r.unterminated ? { unterminated: true } : {}) });
        i = r.end;
        continue;
      }
    }
    if (ch === "'") {
      const r = quoted(start, 0, "'", rules.backslash);
      push('string', start, r.end, r.value, { quote: "'", ...(r.unterminated ? { unterminated: true } : {}) });
      i = r.end;
      continue;
    }
    if (ch === '"') {
      if (rules.doubleQuoteIsString) {
        const r = quoted(start, 0, '"', true);
        push('string', start, r.end, r.value, { quote: '"', ...(r.unterminated ? { unterminated: true } : {}) });
        i = r.end;
      } else {
        const r = quoted(start, 0, '"', false);
        push('quoted', start, r.end, r.value, { quote: '"', ...(r.unterminated ? { unterminated: true } : {}) });
        i = r.end;
      }
      continue;
    }
    if (ch === '`') {
      // Backticks quote identifiers in Spark; elsewhere they are not SQL, but reading them as identifiers keeps a
      // name inside them from being taken for a keyword.
      const r = quoted(start, 0, '`', false);
      push('quoted', start, r.end, r.value, { quote: '`', ...(r.unterminated ? { unterminated: true } : {}) });
      i = r.end;
      continue;
    }
    // numbers: 12, 1.5, .5, 1e-3, 0x1F, 1_000 (duckdb)
    if (isDigit(ch) || (ch === '.' && isDigit(sql[i + 1]))) {
      if (ch === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X') && /[0-9A-Fa-f]/.test(sql[i + 2] ?? '')) {
        i += 2;
        while (i < n && /[0-9A-Fa-f_]/.test(sql[i])) i++;
      } else {
        while (i < n && (isDigit(sql[i]) || sql[i] === '_')) i++;
        if (sql[i] === '.' && sql[i + 1] !== '.') {
          i++;
          while (i < n && (isDigit(sql[i]) || sql[i] === '_')) i++;
        }
        if (
          (sql[i] === 'e' || sql[i] === 'E') &&
          (isDigit(sql[i + 1]) || ((sql[i + 1] === '+' || sql[i + 1] === '-') && isDigit(sql[i + 2])))
        ) {
          i += 2;
          while (i < n && isDigit(sql[i])) i++;
        }
      }
      // Spark literal suffixes (10L, 1.5D, 2BD) and the like stay part of the number
      while (i < n && /[A-Za-z]/.test(sql[i])) i++;
      push('number', start, i, sql.slice(start, i));
      continue;
    }
    if (isIdentStart(ch)) {
      i++;
      while (i < n && isIdentPart(sql[i])) i++;
      push('word', start, i, sql.slice(start, i));
      continue;
    }
    if (ch === '?') {
      i++;
      push('param', start, i, '?');
      continue;
    }
    if (ch === ':' && sql[i + 1] !== ':' && isIdentStart(sql[i + 1] ?? '')) {
      i++;
      while (i < n && isIdentPart(sql[i])) i++;
      push('param', start, i, sql.slice(start, i));
      continue;
    }
    const three = sql.slice(i, i + 3);
    const two = three.slice(0, 2);
    const op = OPS3.has(three) ? three : OPS2.has(two) ? two : undefined;
    // `//` is a comment in Snowflake (handled above) and integer division in DuckDB
    if (op) {
      i += op.length;
      push('op', start, i, op);
      continue;
    }
    // Surrogate pairs (emoji in identifiers of hostile input) are one symbol, never split into two tokens.
    const cp = sql.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    push('op', start, i, sql.slice(start, i));
  }
  return out;
}

/** 1-based line and column of an offset (columns count UTF-16 code units, as editors and engines do). */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
