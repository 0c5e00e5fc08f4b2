import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findReferences } from './references.ts';
import { lineColumnAt, tokenize } from './tokenize.ts';

const kinds = (sql: string, d?: Parameters<typeof tokenize>[1]) => tokenize(sql, d).map((t) => [t.kind, t.value]);

describe('tokenize', () => {
  it('splits words, numbers, operators and punctuation', () => {
    expect(kinds('SELECT a.b, 1.5e3, .5 FROM t WHERE x::int >= 2 AND y <> 3 || z')).toEqual([
      ['word', 'SELECT'],
      ['word', 'a'],
      ['op', '.'],
      ['word', 'b'],
      ['op', ','],
      ['number', '1.5e3'],
      ['op', ','],
      ['number', '.5'],
      ['word', 'FROM'],
      ['word', 't'],
      ['word', 'WHERE'],
      ['word', 'x'],
      ['op', '::'],
      ['word', 'int'],
      ['op', '>='],
      ['number', '2'],
      ['word', 'AND'],
      ['word', 'y'],
      ['op', '<>'],
      ['number', '3'],
      ['op', '||'],
      ['word', 'z'],
    ]);
  });

  it("reads '' as an escaped quote in every dialect", () => {
    for (const d of ['duckdb', 'snowflake'] as const) {
      const [t] = tokenize("'it''s FROM orders'", d);
      expect(t).toMatchObject({ kind: 'string', value: "it's FROM orders" });
    }
  });

  it('applies backslash escapes in Snowflake and Spark strings but not in DuckDB', () => {
    expect(tokenize("'a\\'b' x", 'snowflake').map((t) => t.value)).toEqual(["a'b", 'x']);
    expect(tokenize("'a\\'b' x", 'databricks').map((t) => t.value)).toEqual(["a'b", 'x']);
    // DuckDB: the backslash is a plain character, so the string ends at the second quote
    expect(tokenize("'a\\' b", 'duckdb').map((t) => [t.kind, t.value])).toEqual([
      ['string', 'a\\'],
      ['word', 'b'],
    ]);
    expect(tokenize("E'a\\'b' c", 'duckdb').map((t) => t.value)).toEqual(["a'b", 'c']);
  });

  it('quotes identifiers with "..." in duckdb/snowflake and backticks in databricks', () => {
    expect(tokenize('"we""ird FROM" x', 'duckdb')[0]).toMatchObject({ kind: 'quoted', value: 'we"ird FROM' });
    expect(tokenize('`a``b` "str"', 'databricks').map((t) => [t.kind, t.value])).toEqual([
      ['quoted', 'a`b'],
      ['string', 'str'],
    ]);
  });

  it('skips -- and /* */ comments (nested in DuckDB and Spark, not in Snowflake), and // in Snowflake', () => {
    expect(kinds('a -- FROM b\n/* c /* d */ e */ f', 'duckdb')).toEqual([
      ['word', 'a'],
      ['word', 'f'],
    ]);
    expect(kinds('a /* c /* d */ e */ f', 'snowflake').map((x) => x[1])).toEqual(['a', 'e', '*', '/', 'f']);
    expect(kinds('a // FROM b\nc', 'snowflake')).toEqual([
      ['word', 'a'],
      ['word', 'c'],
    ]);
    expect(kinds('a // b', 'duckdb').map((x) => x[1])).toEqual(['a', '//', 'b']);
    const trivia = tokenize('a -- x\nb', 'duckdb', { trivia: true }).map((t) => t.kind);
    expect(trivia).toEqual(['word', 'space', 'comment', 'space', 'word']);
  });

  it('reads $$ strings (and $tag$ in DuckDB) with quotes and comment markers inside', () => {
    const sf = tokenize("SELECT $$it's -- not /* a */ comment$$ AS x", 'snowflake');
    expect(sf[1]).toMatchObject({ kind: 'string', value: "it's -- not /* a */ comment" });
    expect(sf.map((t) => t.value).slice(2)).toEqual(['AS', 'x']);
    const dk = tokenize('SELECT $q$a $$ b$q$, $1', 'duckdb');
    expect(dk.map((t) => [t.kind, t.value])).toEqual([
      ['word', 'SELECT'],
      ['string', 'a $$ b'],
      ['op', ','],
      ['param', '$1'],
    ]);
  });

  it('never throws on unterminated input and flags it', () => {
    for (const s of ["'abc", '"abc', '/* abc', '$$abc', '`abc']) {
      const toks = tokenize(s, s.startsWith('`') ? 'databricks' : s.startsWith('$') ? 'snowflake' : 'duckdb', {
        trivia: true,
      });
      expect(toks).toHaveLength(1);
      expect(toks[0].unterminated).toBe(true);
      expect(toks[0].end).toBe(s.length);
    }
  });

  it('keeps unicode identifiers and symbols whole, with exact offsets', () => {
    const sql = 'SELECT "naïve 😀" , café FROM t😀';
    const toks = tokenize(sql);
    for (const t of toks) expect(sql.slice(t.start, t.end)).toBe(t.text);
    expect(toks.map((t) => t.value)).toEqual(['SELECT', 'naïve 😀', ',', 'café', 'FROM', 't', '😀']);
  });

  it('keeps the end of every token at the start of the next with trivia on (covers all input)', () => {
    const sql = 'SELECT \'x\'\'y\', "q""" -- c\n/* b */ FROM $$s$$ WHERE a != ? AND :p';
    const toks = tokenize(sql, 'snowflake', { trivia: true });
    expect(toks[0].start).toBe(0);
    for (let i = 1; i < toks.length; i++) expect(toks[i].start).toBe(toks[i - 1].end);
    expect(toks[toks.length - 1].end).toBe(sql.length);
  });

  it('gives 1-based line and column of an offset', () => {
    const s = 'ab\ncd\n\nef';
    expect(lineColumnAt(s, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt(s, 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumnAt(s, 7)).toEqual({ line: 4, column: 1 });
  });
});

describe('tokenize on arbitrary input', () => {
  const pieces = fc.constantFrom(
    "'",
    '"',
    '`',
    '$$',
    '$a$',
    '--',
    '//',
    '/*',
    '*/',
    '\\',
    '\n',
    ' ',
    ';',
    '(',
    ')',
    ',',
    '.',
    'FROM',
    'JOIN',
    'WITH',
    'AS',
    'orders',
    'E',
    'r',
    '1.5e',
    '😀',
    'é',
    '::',
    '?',
    ':p',
  );
  const sqlish = fc.array(fc.oneof(pieces, fc.string({ maxLength: 3 })), { maxLength: 40 }).map((xs) => xs.join(''));

  it('never throws and its tokens (with trivia) tile the input exactly, in every dialect', () => {
    fc.assert(
      fc.property(sqlish, fc.constantFrom('duckdb', 'snowflake', 'databricks' as const), (sql, d) => {
        const toks = tokenize(sql, d, { trivia: true });
        let at = 0;
        for (const t of toks) {
          expect(t.start).toBe(at);
          expect(t.end).toBeGreaterThan(t.start);
          at = t.end;
        }
        expect(at).toBe(sql.length);
        // and reference finding copes with whatever the tokens are
        for (const r of findReferences(sql, d)) expect(sql.slice(r.start, r.end).length).toBeGreaterThan(0);
      }),
      { seed: 20261125, numRuns: 3000 },
    );
  });
});
