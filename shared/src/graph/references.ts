// References between cells: a table-position name in a SQL cell (after FROM, JOIN, a comma of a FROM list, TABLE,
// PIVOT...) that is the name of another cell. Found from tokens plus a little structure, never by regex, so names in
// strings, comments, column positions and shadowing CTEs are not references. See docs/compiler.md for the rules.
import type { Dialect } from '../compile/dialect.ts';
import { isBareIdentifier } from './keywords.ts';
import { type Token, tokenize } from './tokenize.ts';

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

export interface TableReference {
  /** The name as the engine reads it: unquoted text, or the unescaped content of a quoted identifier. */
  name: string;
  /** Offsets of the name token in the SQL (quotes included), `end` exclusive. */
  start: number;
  end: number;
  /** Quote character when written as a quoted identifier. */
  quote?: string;
  /** Alias given to the relation (`FROM orders o`, `FROM orders AS o`), when there is one. */
  alias?: string;
}

export interface SqlAnalysis {
  /** Significant tokens (no whitespace or comments). */
  tokens: Token[];
  /** Single-part table-position names not shadowed by a CTE, in source order. */
  references: TableReference[];
  /** Names of CTEs defined anywhere in the SQL. */
  cteNames: string[];
  /** Column qualifiers (`orders.amount`'s `orders`) not shadowed by a CTE: token indexes into `tokens`. */
  qualifiers: number[];
  /** Non-empty statements, split at top-level `;`: token index ranges [from, to). */
  statements: Array<{ from: number; to: number }>;
}

// A `(` after one of these opens a subquery or a list, not a function call's arguments.
const NOT_CALLS = new Set([
  'FROM',
  'JOIN',
  'IN',
  'AS',
  'EXISTS',
  'ON',
  'AND',
  'OR',
  'NOT',
  'WHERE',
  'SELECT',
  'LATERAL',
  'ANY',
  'ALL',
  'SOME',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'MINUS',
  'USING',
  'OVER',
  'WITH',
  'WHEN',
  'THEN',
  'ELSE',
  'CASE',
  'BY',
  'HAVING',
  'DISTINCT',
  'VALUES',
  'IS',
  'LIKE',
  'ILIKE',
  'BETWEEN',
  'QUALIFY',
  'TABLE',
  'RETURN',
]);
// Keywords that end a FROM clause at the same parenthesis level.
const FROM_ENDERS = new Set([
  'WHERE',
  'GROUP',
  'HAVING',
  'QUALIFY',
  'WINDOW',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'MINUS',
  'FETCH',
  'SELECT',
  'VALUES',
  'CONNECT',
  'START',
  'CLUSTER',
  'DISTRIBUTE',
  'SORT',
]);
// Words that may follow a table name and are not its alias.
const NOT_ALIASES = new Set([
  ...FROM_ENDERS,
  'AS',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'NATURAL',
  'OUTER',
  'ON',
  'USING',
  'SAMPLE',
  'TABLESAMPLE',
  'PIVOT',
  'UNPIVOT',
  'ASOF',
  'POSITIONAL',
  'ANTI',
  'SEMI',
  'LATERAL',
  'AT',
  'BEFORE',
  'CHANGES',
  'MATCH_RECOGNIZE',
  'FOR',
  'WITH',
  'TIMESTAMP',
  'VERSION',
  'FINAL',
]);
// Words that start a query where a table could stand (`FROM (SELECT ...)`, DuckDB `FROM (FROM t)`).
const QUERY_WORDS = new Set(['SELECT', 'VALUES', 'WITH', 'FROM', 'TABLE', 'PIVOT', 'UNPIVOT', 'SUMMARIZE', 'DESCRIBE']);
// Statement-level forms that take a table right after the keyword (DuckDB `PIVOT orders ON ...`, `TABLE orders`).
const TABLE_STATEMENTS = new Set(['TABLE', 'PIVOT', 'UNPIVOT', 'SUMMARIZE', 'DESCRIBE']);

function upper(t: Token | undefined): string {
  return t !== undefined && t.kind === 'word' ? t.value.toUpperCase() : '';
}
function isOp(t: Token | undefined, op: string): boolean {
  return t !== undefined && t.kind === 'op' && t.value === op;
}
function isName(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === 'word' || t.kind === 'quoted');
}

interface Frame {
  isCall: boolean;
  sawQuery: boolean;
  inFrom: boolean;
}

interface CteScope {
  name: string;
  from: number;
  to: number;
}

const cache = new Map<string, SqlAnalysis>();
const CACHE_LIMIT = 2000;

/** Forgets memoised analyses (benchmarks measure cold parsing with it). */
export function clearAnalysisCache(): void {
  cache.clear();
}

/** Tokens, references, CTE names and statements of a piece of SQL. Memoised: the graph and compiler ask often. */
export function analyzeSql(sql: string, dialect: Dialect = 'duckdb'): SqlAnalysis {
  const key = `${dialect}\u0000${sql}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const result = analyze(sql, dialect);
  // Dropping everything at the limit is cheaper than evicting one entry at a time from a Map full of holes.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, result);
  return result;
}

function analyze(sql: string, dialect: Dialect): SqlAnalysis {
  const T = tokenize(sql, dialect);
  const n = T.length;

  // Parenthesis matching and the innermost open parenthesis around each token.
  const match = new Int32Array(n).fill(-1);
  const encl = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  for (let k = 0; k < n; k++) {
    encl[k] = stack.length ? stack[stack.length - 1] : -1;
    if (isOp(T[k], '(')) stack.push(k);
    else if (isOp(T[k], ')') && stack.length) {
      const open = stack.pop()!;
      match[open] = k;
      match[k] = open;
    }
  }
  // Top-level statements.
  const statements: Array<{ from: number; to: number }> = [];
  let stmtStart = 0;
  for (let k = 0; k <= n; k++) {
    if (k === n || (isOp(T[k], ';') && encl[k] === -1)) {
      if (k > stmtStart) statements.push({ from: stmtStart, to: k });
      stmtStart = k + 1;
    }
  }
  const stmtEnd = (k: number) => statements.find((s) => k >= s.from && k < s.to)?.to ?? n;
  const groupEnd = (k: number) => {
    const open = encl[k];
    if (open === -1) return stmtEnd(k);
    return match[open] === -1 ? n : match[open];
  };

  // CTE scopes: a CTE is visible in the later CTEs of its WITH list and in that WITH's query (its own body too when
  // the WITH is RECURSIVE), up to the end of the enclosing parentheses or statement.
  const scopes: CteScope[] = [];
  const cteNames: string[] = [];
  for (let w = 0; w < n; w++) {
    if (upper(T[w]) !== 'WITH') continue;
    let j = w + 1;
    const recursive = upper(T[j]) === 'RECURSIVE';
    if (recursive) j++;
    const end = groupEnd(w);
    while (j < n && isName(T[j])) {
      const name = T[j].value;
      j++;
      if (isOp(T[j], '(') && match[j] !== -1) j = match[j] + 1;
      if (upper(T[j]) !== 'AS') break;
      j++;
      if (upper(T[j]) === 'NOT') j++;
      if (upper(T[j]) === 'MATERIALIZED') j++;
      if (!isOp(T[j], '(')) break;
      const bodyEnd = match[j] === -1 ? n : match[j];
      scopes.push({ name: name.toLowerCase(), from: recursive ? j : bodyEnd, to: end });
      cteNames.push(name);
      j = bodyEnd + 1;
      if (!isOp(T[j], ',')) break;
      j++;
    }
  }
  const shadowed = (k: number, name: string) => {
    if (scopes.length === 0) return false;
    const lower = name.toLowerCase();
    return scopes.some((s) => s.name === lower && k >= s.from && k < s.to);
  };

  // Table positions.
  const references: TableReference[] = [];
  const tableParts = new Set<number>();
  const frames: Frame[] = [{ isCall: false, sawQuery: false, inFrom: false }];
  let expectTable = false;
  for (let k = 0; k < n; k++) {
    const t = T[k];
    const frame = frames[frames.length - 1];
    const up = upper(t);
    if (expectTable) {
      if (up === 'LATERAL' || up === 'ONLY') continue;
      expectTable = false;
      if (up === 'TABLE' && isOp(T[k + 1], '(')) continue;
      if (isOp(t, '(')) {
        // `FROM (a JOIN b ON ...)`: a parenthesised join starts with a table; `FROM (SELECT ...)` does not, and the
        // SELECT ends the FROM clause of the new level again.
        frames.push({ isCall: false, sawQuery: false, inFrom: true });
        expectTable = true;
        continue;
      }
      if (isName(t) && !(t.kind === 'word' && QUERY_WORDS.has(up))) {
        let j = k;
        while (isOp(T[j + 1], '.') && isName(T[j + 2])) j += 2;
        if (isOp(T[j + 1], '(')) {
          // a table function: its `(` is pushed as a call on the next round
          k = j;
          continue;
        }
        for (let p = k; p <= j; p += 2) tableParts.add(p);
        if (j === k && !shadowed(k, t.value)) {
          const ref: TableReference = { name: t.value, start: t.start, end: t.end };
          if (t.kind === 'quoted') ref.quote = t.quote;
          const next = T[j + 1];
          if (upper(next) === 'AS' && isName(T[j + 2])) ref.alias = T[j + 2].value;
          else if (next?.kind === 'quoted' || (next?.kind === 'word' && !NOT_ALIASES.has(upper(next))))
            ref.alias = next.value;
          references.push(ref);
        }
        k = j;
        continue;
      }
    }
    if (t.kind === 'op') {
      if (t.value === '(') {
        const prev = T[k - 1];
        const isCall = prev?.kind === 'quoted' || (prev?.kind === 'word' && !NOT_CALLS.has(upper(prev)));
        frames.push({ isCall, sawQuery: false, inFrom: false });
      } else if (t.value === ')') {
        if (frames.length > 1) frames.pop();
      } else if (t.value === ';') {
        frames.length = 1;
        frames[0] = { isCall: false, sawQuery: false, inFrom: false };
      } else if (t.value === ',' && frame.inFrom) expectTable = true;
      continue;
    }
    if (t.kind !== 'word') continue;
    const prevUp = upper(T[k - 1]);
    if (up === 'FROM') {
      // `a IS [NOT] DISTINCT FROM b` compares values; `EXTRACT(year FROM d)` is a function's syntax.
      const distinctFrom = prevUp === 'DISTINCT' && (upper(T[k - 2]) === 'IS' || upper(T[k - 2]) === 'NOT');
      if (distinctFrom || (frame.isCall && !frame.sawQuery)) continue;
      frame.inFrom = true;
      frame.sawQuery = true;
      expectTable = true;
    } else if (up === 'JOIN') {
      frame.inFrom = true;
      expectTable = true;
    } else if (up === 'VIEW' && prevUp === 'LATERAL') {
      // Spark `LATERAL VIEW explode(x) t AS a, b`: the commas list column aliases, not tables
      frame.inFrom = false;
    } else if (FROM_ENDERS.has(up)) {
      frame.inFrom = false;
      if (up === 'SELECT' || up === 'VALUES') frame.sawQuery = true;
    } else if (up === 'WITH') {
      frame.sawQuery = true;
      frame.inFrom = false;
    } else if (TABLE_STATEMENTS.has(up) && isName(T[k + 1])) {
      const prev = T[k - 1];
      const atStart =
        prev === undefined ||
        isOp(prev, '(') ||
        isOp(prev, ';') ||
        (up === 'TABLE' && ['UNION', 'INTERSECT', 'EXCEPT', 'MINUS', 'ALL', 'DISTINCT'].includes(prevUp));
      if (atStart) {
        frame.sawQuery = true;
        expectTable = true;
      }
    }
  }

  const qualifiers: number[] = [];
  for (let k = 0; k < n; k++) {
    if (!isName(T[k]) || !isOp(T[k + 1], '.') || isOp(T[k - 1], '.') || tableParts.has(k)) continue;
    if (!shadowed(k, T[k].value)) qualifiers.push(k);
  }

  return { tokens: T, references, cteNames, qualifiers, statements };
}

/**
 * Table-position names in `sql` that are not shadowed by a CTE, in source order. With `names`, only those that
 * equal one of them (case-insensitively: cell names are unique regardless of case) are returned.
 */
export function findReferences(sql: string, dialect: Dialect = 'duckdb', names?: Iterable<string>): TableReference[] {
  const refs = analyzeSql(sql, dialect).references;
  if (names === undefined) return refs;
  const wanted = new Set<string>();
  for (const name of names) wanted.add(name.toLowerCase());
  return refs.filter((r) => wanted.has(r.name.toLowerCase()));
}

/** How a name is written back: in the quote style it had, and quoted when a bare word would not parse. */
function spell(name: string, quote: string | undefined, dialect: Dialect): string {
  const q = quote ?? (isBareIdentifier(name) ? undefined : dialect === 'databricks' ? '`' : '"');
  if (q === undefined) return name;
  return q + name.split(q).join(q + q) + q;
}

/**
 * Edits that rename every real reference to `from` into `to`, keeping each one's quoting. Column qualifiers that
 * use the relation's name (`orders.amount` where `orders` is read without an alias) are renamed with it, so the
 * query still means the same. Strings, comments, columns and names shadowed by a CTE are left alone.
 */
export function rewriteReferences(sql: string, from: string, to: string, dialect: Dialect = 'duckdb'): TextEdit[] {
  const a = analyzeSql(sql, dialect);
  const lower = from.toLowerCase();
  const hits = a.references.filter((r) => r.name.toLowerCase() === lower);
  if (hits.length === 0) return [];
  const edits: TextEdit[] = hits.map((r) => ({ start: r.start, end: r.end, text: spell(to, r.quote, dialect) }));
  if (hits.some((r) => r.alias === undefined)) {
    for (const k of a.qualifiers) {
      const t = a.tokens[k];
      if (t.value.toLowerCase() !== lower) continue;
      edits.push({ start: t.start, end: t.end, text: spell(to, t.kind === 'quoted' ? t.quote : undefined, dialect) });
    }
  }
  return edits.sort((x, y) => x.start - y.start);
}

/** Applies non-overlapping edits to a string. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = '';
  let at = 0;
  for (const e of [...edits].sort((x, y) => x.start - y.start)) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}
