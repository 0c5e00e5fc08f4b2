// DuckDB's own parser as the oracle for table references: for generated queries full of traps (names in strings,
// comments, select lists, EXTRACT(... FROM ...), IS DISTINCT FROM, qualified names, table functions, parenthesised
// joins, subqueries, CTEs), the single-part tables DuckDB's parse tree reads (json_serialize_sql) must be exactly the
// names findReferences returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, seeded, type TestDb } from '../compile/testing-duckdb.ts';
import { findReferences } from './references.ts';

const NAMES = ['orders', 'Customers', '"we ird"', '"select"', 'x_1', '"FROM"', 'products', '"a""b"', 'Zoë'];

function generator(seed: number) {
  const rand = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const chance = (p: number) => rand() < p;
  let cte = 0;
  const trap = () =>
    pick([
      `'FROM ${pick(NAMES).replaceAll("'", "''")}'`,
      `EXTRACT(year FROM ${pick(['d', 'orders'])})`,
      `a IS DISTINCT FROM ${pick(['orders', 'b'])}`,
      `${pick(['orders', 'x_1', 'c'])}`,
      `substring(s FROM 2 FOR 3)`,
      `count(*) FILTER (WHERE orders > 1)`,
      `orders.amount`,
      `$$ JOIN orders $$`,
      `E'it\\'s FROM orders'`,
      `$t$ FROM "orders $t$`,
      `1 /* nested /* FROM orders */ JOIN x_1 */`,
      `CASE WHEN a THEN 'FROM b' ELSE orders END`,
    ]);
  const comment = () => (chance(0.3) ? pick([' /* FROM orders */ ', ' -- JOIN x_1\n ']) : ' ');
  const table = (depth: number, ctes: string[]): string => {
    const r = rand();
    if (r < 0.5) return pick(NAMES);
    if (r < 0.6 && ctes.length) return pick(ctes);
    if (r < 0.7) return `main.${pick(NAMES)}`;
    if (r < 0.78) return `range(${Math.floor(rand() * 5)})`;
    if (r < 0.86 && depth > 0) return `(${query(depth - 1, ctes)}) sq${Math.floor(rand() * 9)}`;
    if (r < 0.9 && depth > 0) return `(${table(depth - 1, ctes)} JOIN ${table(depth - 1, ctes)} ON true)`;
    if (r < 0.93 && depth > 0) return `LATERAL (${query(depth - 1, ctes, false)}) lt`;
    if (r < 0.96) return `(FROM ${pick(NAMES)}) ff`;
    return `${pick(NAMES)} AS t${Math.floor(rand() * 9)}`;
  };
  const where = (depth: number, ctes: string[]) =>
    pick([
      `x = 'JOIN orders'`,
      depth > 0 ? `y IN (${query(depth - 1, ctes)})` : 'y IN (1, 2)',
      depth > 0 ? `EXISTS (${query(depth - 1, ctes)})` : 'z IS NULL',
      `a IS NOT DISTINCT FROM b`,
    ]);
  const query = (depth: number, outer: string[], allowWith = true): string => {
    const ctes = [...outer];
    let sql = '';
    if (allowWith && depth > 0 && chance(0.25)) {
      const defs: string[] = [];
      for (let i = 0, n = 1 + Math.floor(rand() * 2); i < n; i++) {
        const name = `cte_${cte++}`;
        defs.push(`${name} AS (${query(depth - 1, ctes)})`);
        ctes.push(name);
      }
      sql += `WITH ${defs.join(', ')} `;
    }
    const cols = Array.from({ length: 1 + Math.floor(rand() * 3) }, trap).join(', ');
    sql += `SELECT ${cols}${comment()}FROM ${table(depth, ctes)}`;
    for (let i = 0, n = Math.floor(rand() * 3); i < n; i++) {
      if (chance(0.5)) {
        sql += `,${comment()}${table(depth, ctes)}`;
        continue;
      }
      const type = pick(['', 'LEFT ', 'INNER ', 'CROSS ', 'FULL OUTER ']);
      const condition = type === 'CROSS ' ? '' : chance(0.5) ? 'ON true' : 'USING (id)';
      sql += ` ${type}JOIN ${table(depth, ctes)}${comment()}${condition}`;
    }
    if (chance(0.5)) sql += ` WHERE ${where(depth, ctes)}`;
    if (chance(0.2)) sql += ' GROUP BY orders, x_1';
    if (depth > 0 && chance(0.2)) sql += ` UNION ALL ${query(depth - 1, outer, false)}`;
    return sql;
  };
  return () => query(2, []);
}

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db?.close());

async function duckdbTables(sql: string): Promise<{ tables: string[]; ctes: Set<string> } | undefined> {
  const rows = await db.query(`SELECT json_serialize_sql('${sql.replaceAll("'", "''")}') AS j`);
  const tree = JSON.parse(rows[0].j as string);
  if (tree.error) return undefined;
  const tables: string[] = [];
  const ctes = new Set<string>();
  const walk = (n: unknown) => {
    if (Array.isArray(n)) for (const x of n) walk(x);
    else if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if (o.type === 'BASE_TABLE' && o.schema_name === '' && o.catalog_name === '') tables.push(String(o.table_name));
      if (o.cte_map && typeof o.cte_map === 'object') {
        for (const e of (o.cte_map as { map?: Array<{ key: string }> }).map ?? []) ctes.add(e.key.toLowerCase());
      }
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(tree);
  return { tables, ctes };
}

describe('findReferences against DuckDB’s parser', () => {
  it('finds exactly the single-part tables DuckDB parses, minus CTE names, in 300 generated queries', async () => {
    const next = generator(Number(process.env.REF_SEED ?? 20261125));
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const sql = next();
      const oracle = await duckdbTables(sql);
      expect(oracle, sql).toBeDefined();
      const expected = oracle!.tables.map((t) => t.toLowerCase()).filter((t) => !oracle!.ctes.has(t));
      const found = findReferences(sql, 'duckdb').map((r) => r.name.toLowerCase());
      expect(found.sort(), sql).toEqual(expected.sort());
      checked++;
    }
    expect(checked).toBe(300);
  });
});
