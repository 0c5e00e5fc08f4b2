// Demo data, generated with SQL on first start so a fresh install has something to run: customers, products and
// orders (about a million rows in all with the default size) in the embedded warehouse, plus a few files in the
// data folder. Values come from hash() of the row number, so every machine generates the same rows.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type DuckDBWarehouse, sqlString } from './engines/duckdb.ts';

export interface DemoDataOptions {
  /** Rows in `orders`; customers = orders / 8, products = 500. */
  orders: number;
  dataDir: string;
}

export const DEMO_FILES = ['demo/orders_sample.csv', 'demo/products.parquet', 'demo/countries.json'] as const;

const COUNTRIES = [
  'Germany',
  'France',
  'Spain',
  'Italy',
  'Netherlands',
  'Poland',
  'Sweden',
  'United Kingdom',
  'United States',
  'Canada',
  'Brazil',
  'Japan',
  'India',
  'Australia',
];
const FIRST = ['Ada', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jon', 'Kai', 'Lena', 'Mia'];
const LAST = ['Novak', 'Okafor', 'Park', 'Quinn', 'Rossi', 'Silva', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Xu', 'Young'];
const CATEGORIES = ['books', 'electronics', 'garden', 'grocery', 'home', 'sports', 'toys'];

function list(values: string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}
/** Deterministic pseudo-random integer in [0, n) from a row number and a salt. */
function pick(expr: string, salt: number, n: number): string {
  return `(hash(${expr} * 31 + ${salt}) % ${n})::BIGINT`;
}

export async function hasDemoData(wh: DuckDBWarehouse): Promise<boolean> {
  const r = await wh.readAll(
    `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name IN ('customers', 'orders', 'products')`,
  );
  return Number(r.rowsJs[0][0]) === 3;
}

/** Creates the demo tables and files unless the tables already exist. Returns whether it generated anything. */
export async function ensureDemoData(wh: DuckDBWarehouse, opts: DemoDataOptions): Promise<boolean> {
  if (await hasDemoData(wh)) return false;
  const nOrders = Math.max(1, opts.orders);
  const nCustomers = Math.max(1, Math.floor(nOrders / 8));
  const nProducts = 500;
  await wh.with(async (c) => {
    await c.run('BEGIN TRANSACTION');
    try {
      await c.run(`CREATE OR REPLACE TABLE products AS
        SELECT range + 1 AS product_id,
               list_extract(${list(CATEGORIES)}, ${pick('range', 1, CATEGORIES.length)} + 1) || ' item ' || (range + 1) AS name,
               list_extract(${list(CATEGORIES)}, ${pick('range', 1, CATEGORIES.length)} + 1) AS category,
               round(2 + (${pick('range', 2, 20000)}) / 100.0, 2)::DECIMAL(10, 2) AS price
        FROM range(${nProducts})`);
      await c.run(`CREATE OR REPLACE TABLE customers AS
        SELECT range + 1 AS customer_id,
               list_extract(${list(FIRST)}, ${pick('range', 3, FIRST.length)} + 1) || ' ' ||
                 list_extract(${list(LAST)}, ${pick('range', 4, LAST.length)} + 1) AS name,
               list_extract(${list(COUNTRIES)}, ${pick('range', 5, COUNTRIES.length)} + 1) AS country,
               'customer' || (range + 1) || '@example.com' AS email,
               DATE '2021-01-01' + ${pick('range', 6, 730)}::INTEGER AS signup_date,
               CASE WHEN ${pick('range', 7, 10)} < 2 THEN 'business' ELSE 'consumer' END AS segment
        FROM range(${nCustomers})`);
      await c.run(`CREATE OR REPLACE TABLE orders AS
        WITH o AS (
          SELECT range AS i,
                 ${pick('range', 8, nCustomers)} + 1 AS customer_id,
                 ${pick('range', 9, nProducts)} + 1 AS product_id,
                 ${pick('range', 10, 100)} AS s,
                 ${pick('range', 11, 5)} + 1 AS quantity
          FROM range(${nOrders})
        )
        SELECT o.i + 1 AS order_id, o.customer_id, o.product_id,
               DATE '2023-01-01' + ${pick('o.i', 12, 730)}::INTEGER AS order_date,
               CASE WHEN o.s < 6 THEN 'cancelled' WHEN o.s < 9 THEN 'returned' WHEN o.s < 15 THEN 'pending'
                    ELSE 'completed' END AS status,
               o.quantity,
               CASE WHEN ${pick('o.i', 13, 250)} = 0 THEN 0 ELSE p.price * o.quantity END::DECIMAL(12, 2) AS amount
        FROM o JOIN products p USING (product_id)
        ORDER BY order_id`);
      await c.run('COMMIT');
    } catch (e) {
      await c.run('ROLLBACK').catch(() => {});
      throw e;
    }
  });
  const demoDir = path.join(opts.dataDir, 'demo');
  mkdirSync(demoDir, { recursive: true });
  await wh.run(
    `COPY (SELECT * FROM orders ORDER BY order_id LIMIT 1000) TO ${sqlString(path.join(demoDir, 'orders_sample.csv'))} (FORMAT csv, HEADER true)`,
  );
  await wh.run(`COPY products TO ${sqlString(path.join(demoDir, 'products.parquet'))} (FORMAT parquet)`);
  await wh.run(
    `COPY (SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY country)
     TO ${sqlString(path.join(demoDir, 'countries.json'))} (FORMAT json)`,
  );
  return true;
}
