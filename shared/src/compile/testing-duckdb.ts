// Test support: an in-memory DuckDB with no extension downloads, and rows read back as plain JS values, so compiled
// statements can be run for real in the compiler's tests.
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

export interface TestDb {
  con: DuckDBConnection;
  run(sql: string): Promise<void>;
  query(sql: string): Promise<Row[]>;
  /** Appends plain rows to an existing table, value by value, without going through SQL text. */
  append(table: string, rows: unknown[][], schema?: string): Promise<void>;
  close(): void;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') {
    if (v instanceof Date) return v.toISOString();
    return String(v);
  }
  return v;
}

export async function openTestDb(): Promise<TestDb> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con = await instance.connect();
  return {
    con,
    async run(sql) {
      await con.run(sql);
    },
    async query(sql) {
      const reader = await con.runAndReadAll(sql);
      return reader.getRowObjectsJS().map((r) => {
        const out: Row = {};
        for (const [k, v] of Object.entries(r)) out[k] = plain(v);
        return out;
      });
    },
    async append(table, rows, schema) {
      const appender = await con.createAppender(table, schema ?? null);
      for (const row of rows) {
        for (const v of row) {
          if (v === null || v === undefined) appender.appendNull();
          else if (typeof v === 'number' && Number.isInteger(v)) appender.appendInteger(v);
          else if (typeof v === 'number') appender.appendDouble(v);
          else if (typeof v === 'boolean') appender.appendBoolean(v);
          else appender.appendVarchar(String(v));
        }
        appender.endRow();
      }
      appender.closeSync();
    },
    close() {
      con.closeSync();
      instance.closeSync();
    },
  };
}

/** A seeded generator (mulberry32), so test data is the same on every run and a failure can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows sorted by a JSON key of all values, so result sets compare without depending on row order. */
export function sortRows(rows: Row[]): Row[] {
  return [...rows].sort((a, b) => {
    const x = JSON.stringify(Object.values(a));
    const y = JSON.stringify(Object.values(b));
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
