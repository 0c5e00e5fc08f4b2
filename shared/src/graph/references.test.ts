import { describe, expect, it } from 'vitest';
import { applyEdits, findReferences, rewriteReferences } from './references.ts';

const names = (sql: string, d?: Parameters<typeof findReferences>[1]) => findReferences(sql, d).map((r) => r.name);

describe('findReferences', () => {
  it('[R1] finds names after FROM, JOIN and FROM-list commas', () => {
    expect(names('SELECT * FROM a JOIN b ON a.x = b.x LEFT OUTER JOIN c USING (id), d, e AS ee')).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
  });

  it('[R2] ignores columns, select lists, GROUP BY lists and function arguments named like tables', () => {
    expect(names('SELECT orders, count(customers) FROM t WHERE x IN (1, 2) GROUP BY orders, customers')).toEqual(['t']);
    expect(names('SELECT EXTRACT(year FROM orders), substring(s FROM 2) FROM t')).toEqual(['t']);
    expect(names('SELECT * FROM t WHERE a IS DISTINCT FROM orders OR b IS NOT DISTINCT FROM c')).toEqual(['t']);
  });

  it('[R2] ignores names in strings and comments', () => {
    expect(names("SELECT 'FROM orders' AS s -- FROM customers\n/* JOIN products */ FROM t")).toEqual(['t']);
    expect(names("SELECT $$ FROM orders $$ FROM t WHERE s = 'a''FROM b'", 'snowflake')).toEqual(['t']);
    expect(names("SELECT \"FROM orders\" FROM t WHERE s = 'x\\' FROM b'", 'databricks')).toEqual(['t']);
  });

  it('[R3] finds quoted identifiers, with their quote', () => {
    const refs = findReferences('SELECT * FROM "Orders" JOIN `c` ON 1=1', 'duckdb');
    expect(refs.map((r) => [r.name, r.quote])).toEqual([
      ['Orders', '"'],
      ['c', '`'],
    ]);
    expect(findReferences('SELECT * FROM `we``ird`', 'databricks')[0].name).toBe('we`ird');
  });

  it('[R2] does not count qualified names or table functions', () => {
    expect(names("SELECT * FROM main.orders, read_parquet('x.parquet'), cat.s.t, generate_series(1, 3)")).toEqual([]);
    expect(names('SELECT * FROM t, LATERAL FLATTEN(input => t.v) f', 'snowflake')).toEqual(['t']);
    expect(names('SELECT * FROM TABLE(my_fn(1)) JOIN u ON true')).toEqual(['u']);
  });

  it('[R4] lets CTE names shadow cells in their scope only', () => {
    expect(names('WITH orders AS (SELECT 1) SELECT * FROM orders')).toEqual([]);
    // a non-recursive CTE's own body still reads the outer name
    expect(names('WITH orders AS (SELECT * FROM orders WHERE x) SELECT * FROM orders')).toEqual(['orders']);
    expect(names('WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r')).toEqual([]);
    // later CTEs see earlier ones; a CTE inside a subquery does not shadow outside it
    expect(names('WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b, c')).toEqual(['c']);
    expect(names('SELECT * FROM (WITH a AS (SELECT 1) SELECT * FROM a) s JOIN a ON true')).toEqual(['a']);
    expect(names('WITH x (c1, c2) AS MATERIALIZED (SELECT 1, 2) SELECT * FROM x')).toEqual([]);
  });

  it('[R1] follows subqueries, set operations and FROM-first syntax', () => {
    expect(names('SELECT * FROM (SELECT * FROM a) s, (SELECT 1) t2 UNION ALL SELECT * FROM b')).toEqual(['a', 'b']);
    expect(names('FROM a SELECT x')).toEqual(['a']);
    expect(names('SELECT * FROM a WHERE x IN (SELECT y FROM b) AND EXISTS (SELECT 1 FROM c)')).toEqual(['a', 'b', 'c']);
    expect(names('TABLE a UNION TABLE b')).toEqual(['a', 'b']);
    expect(names('PIVOT a ON year USING sum(x)')).toEqual(['a']);
    expect(names('SELECT * FROM t LATERAL VIEW explode(m) x AS k, v')).toEqual(['t']);
  });

  it('[R1] follows parenthesised joins and subqueries in FROM', () => {
    expect(names('SELECT * FROM (a JOIN b ON a.x = b.x), (c), ((SELECT * FROM d)) s, (FROM e) t')).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    expect(names('SELECT * FROM (SELECT x, y FROM a) s, b')).toEqual(['a', 'b']);
    expect(names('SELECT * FROM (TABLE a) s')).toEqual(['a']);
  });

  it('reports aliases', () => {
    const refs = findReferences('SELECT * FROM a x JOIN b AS y ON true JOIN c WHERE 1=1');
    expect(refs.map((r) => r.alias)).toEqual(['x', 'y', undefined]);
  });

  it('[R3] filters by cell names case-insensitively', () => {
    expect(findReferences('SELECT * FROM ORDERS, raw_events', 'duckdb', ['orders']).map((r) => r.name)).toEqual([
      'ORDERS',
    ]);
  });

  it('reports exact offsets', () => {
    const sql = 'SELECT *\nFROM  "a b"';
    const [r] = findReferences(sql);
    expect(sql.slice(r.start, r.end)).toBe('"a b"');
  });
});

describe('rewriteReferences', () => {
  const rename = (sql: string, from: string, to: string, d?: Parameters<typeof rewriteReferences>[3]) =>
    applyEdits(sql, rewriteReferences(sql, from, to, d));

  it('renames references and their unaliased column qualifiers, nothing else', () => {
    expect(
      rename(
        "SELECT orders.id, 'orders' AS s, o2.orders -- orders\nFROM orders WHERE orders.x > 1 AND orders = 1",
        'orders',
        'sales',
      ),
    ).toBe("SELECT sales.id, 'orders' AS s, o2.orders -- orders\nFROM sales WHERE sales.x > 1 AND orders = 1");
  });

  it('keeps qualifiers that belong to an alias and schema-qualified tables', () => {
    expect(rename('SELECT orders.id FROM x AS orders JOIN orders o ON true', 'orders', 'sales')).toBe(
      'SELECT orders.id FROM x AS orders JOIN sales o ON true',
    );
    expect(rename('SELECT * FROM orders.t, orders', 'orders', 'sales')).toBe('SELECT * FROM orders.t, sales');
  });

  it('leaves shadowing CTEs alone', () => {
    const sql = 'WITH orders AS (SELECT * FROM orders) SELECT * FROM orders';
    expect(rename(sql, 'orders', 'sales')).toBe('WITH orders AS (SELECT * FROM sales) SELECT * FROM orders');
  });

  it('keeps the quoting style and quotes reserved words', () => {
    expect(rename('SELECT * FROM "Orders" JOIN orders ON true', 'orders', 'sales')).toBe(
      'SELECT * FROM "sales" JOIN sales ON true',
    );
    expect(rename('SELECT * FROM orders', 'orders', 'order')).toBe('SELECT * FROM "order"');
    expect(rename('SELECT * FROM orders', 'orders', 'select', 'databricks')).toBe('SELECT * FROM `select`');
    expect(rename('SELECT * FROM `orders`', 'orders', 'sales', 'databricks')).toBe('SELECT * FROM `sales`');
  });

  it('returns no edits when nothing refers to the name', () => {
    expect(rewriteReferences("SELECT 'orders' FROM t -- orders", 'orders', 'x')).toEqual([]);
  });
});
