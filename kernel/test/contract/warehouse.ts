// The data behind the warehouse test servers: an in-memory DuckDB (extension autoload off) loaded with the demo tables
// (customers, orders, products), a table holding one value of every common type, and a numbers table for paging.
// Both test servers run their SQL here and only differ in how they put the answer on the wire.
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';

export interface WarehouseOptions {
  /** Rows in `numbers` (id, bucket, label); default 20 000. */
  numbers?: number;
  /** Rows in `events_1m`-style big table `big_numbers`; default 0 (not created). */
  bigRows?: number;
}

export interface QueryColumn {
  name: string;
  type: DuckDBType;
}

export interface QueryResult {
  columns: QueryColumn[];
  rows: DuckDBValue[][];
}

export interface Warehouse {
  run(sql: string): Promise<QueryResult>;
  countStatements(sql: string): Promise<number>;
  interrupt(): void;
  close(): void;
}

export const DEMO_CUSTOMERS = 40;
export const DEMO_ORDERS = 400;

/** The SQL that creates the test tables (also loaded into the kernel's embedded DuckDB by the contract suite). */
export const warehouseSetupSql = (numbers = 20_000, bigRows = 0): string => `
CREATE TABLE customers AS
  SELECT i AS customer_id,
         'Customer ' || i AS name,
         (['France','Germany','Japan','Brazil','Canada','India','Kenya','Spain'])[1 + (i * 7) % 8] AS country,
         DATE '2023-01-01' + INTERVAL (i * 3) DAY AS signup_date
  FROM range(1, ${DEMO_CUSTOMERS + 1}) t(i);
ALTER TABLE customers ALTER signup_date TYPE DATE;
CREATE TABLE products AS
  SELECT i AS product_id, 'Product ' || i AS name,
         (['books','games','tools','food'])[1 + i % 4] AS category,
         CAST(5 + (i * 37) % 200 + 0.99 AS DECIMAL(10,2)) AS price
  FROM range(1, 31) t(i);
CREATE TABLE orders AS
  SELECT i AS order_id,
         1 + (i * 13) % ${DEMO_CUSTOMERS} AS customer_id,
         1 + (i * 11) % 30 AS product_id,
         CAST(DATE '2024-01-01' + INTERVAL (i % 180) DAY AS DATE) AS order_date,
         CAST(((i * 7919) % 50000) / 100.0 - 20 AS DECIMAL(10,2)) AS amount,
         (['paid','shipped','cancelled','paid','refunded'])[1 + i % 5] AS status
  FROM range(1, ${DEMO_ORDERS + 1}) t(i);
CREATE TABLE all_types (
  id INTEGER, small_int SMALLINT, big_int BIGINT, dec DECIMAL(12,3), dbl DOUBLE, txt VARCHAR, flag BOOLEAN,
  day DATE, tod TIME, ts TIMESTAMP, tstz TIMESTAMPTZ, bin BLOB);
INSERT INTO all_types VALUES
  (1, 7, 9007199254740993, 12345.678, 3.25, 'héllo, "world"', true, DATE '2024-02-29', TIME '13:45:30.125',
   TIMESTAMP '2024-02-29 13:45:30.125', TIMESTAMPTZ '2024-02-29 13:45:30.125+00', '\\xDE\\xAD\\xBE\\xEF'::BLOB),
  (2, -3, -42, -0.5, -1e-3, '', false, DATE '1969-07-20', TIME '00:00:00', TIMESTAMP '1969-07-20 20:17:40',
   TIMESTAMPTZ '1969-07-20 20:17:40+00', ''::BLOB),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE numbers AS
  SELECT range AS id, range % 10 AS bucket, 'n' || range AS label FROM range(${numbers});
${bigRows > 0 ? `CREATE TABLE big_numbers AS SELECT range AS id, range * 0.5 AS half, 'row ' || range AS label FROM range(${bigRows});` : ''}
`;

export async function createWarehouse(opts: WarehouseOptions = {}): Promise<Warehouse> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con: DuckDBConnection = await instance.connect();
  await con.run("SET TimeZone = 'UTC'");
  await con.run(warehouseSetupSql(opts.numbers ?? 20_000, opts.bigRows ?? 0));
  // One statement at a time, as a warehouse session would serialise them; keeps DuckDB usage simple.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = queue.then(f, f);
    queue = p.catch(() => {});
    return p;
  };
  return {
    run: (sql) =>
      serial(async () => {
        const result = await con.run(sql);
        const names = result.columnNames();
        const types = result.columnTypes();
        const rows = (await result.getRows()) as DuckDBValue[][];
        return { columns: names.map((name, i) => ({ name, type: types[i] })), rows };
      }),
    countStatements: async (sql) => (await con.extractStatements(sql)).count,
    interrupt: () => con.interrupt(),
    close: () => {
      con.closeSync();
      instance.closeSync();
    },
  };
}

export interface DuckDbErrorInfo {
  kind: 'parser' | 'binder' | 'catalog' | 'conversion' | 'other';
  /** First line of DuckDB's message without its "X Error: " prefix. */
  text: string;
  line?: number;
  /** 0-based position within the line. */
  position?: number;
  /** Offending identifier or token when DuckDB names one. */
  token?: string;
}

/** Reads DuckDB's "Kind Error: text ... LINE n: src\n    ^" message. */
export function parseDuckDbError(message: string): DuckDbErrorInfo {
  const head = message.split('\n')[0];
  const m = /^(\w+) Error: (.*)$/.exec(head);
  const kindWord = m?.[1].toLowerCase() ?? 'other';
  const kind: DuckDbErrorInfo['kind'] =
    kindWord === 'parser' || kindWord === 'binder' || kindWord === 'catalog' || kindWord === 'conversion'
      ? kindWord
      : 'other';
  const text = m?.[2] ?? head;
  const loc = /LINE (\d+): .*\n( *)\^/.exec(message);
  const token = /"([^"]+)"/.exec(text)?.[1] ?? /with name (\S+) does not exist/.exec(text)?.[1];
  return {
    kind,
    text,
    token,
    ...(loc ? { line: Number(loc[1]), position: loc[2].length - `LINE ${loc[1]}: `.length } : {}),
  };
}

export { DuckDBTypeId };
