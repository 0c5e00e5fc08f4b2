// Pages of a materialised result, read by DuckDB from the Parquet file with LIMIT/OFFSET, so only one page is ever
// in the Node heap whatever the result's size. JSON for the grid, Arrow IPC for clients that want typed columns.
import type { ColumnInfo } from '@pipebook/shared';
import {
  Bool,
  type DataType,
  DateDay,
  Float64,
  Int32,
  Int64,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { type DuckDBWarehouse, sqlString } from '../engines/duckdb.ts';
import type { ResultEntry } from './store.ts';

export interface Page {
  columns: ColumnInfo[];
  /** Values as the JSON converter gives them (strings for big integers, dates, decimals, ...), converted on use. */
  readonly rowsJson: unknown[][];
  /** Values as JS (bigint, Date, Buffer, ...), converted on use. */
  readonly rowsJs: unknown[][];
}

export async function readPage(wh: DuckDBWarehouse, entry: ResultEntry, offset: number, limit: number): Promise<Page> {
  return wh.readAll(
    `SELECT * FROM read_parquet(${sqlString(entry.path)}) LIMIT ${Math.floor(limit)} OFFSET ${Math.floor(offset)}`,
  );
}

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER']);
const WIDE_INTEGER_TYPES = new Set(['HUGEINT', 'UBIGINT', 'UHUGEINT']);

/** JSON-safe rows: integers as numbers while exact (else strings), decimals as numbers while exact (else strings). */
export function jsonRows(columns: ColumnInfo[], rows: unknown[][]): unknown[][] {
  const convert = columns.map((c) => {
    const t = c.type.toUpperCase();
    if (INTEGER_TYPES.has(t) || WIDE_INTEGER_TYPES.has(t)) {
      return (v: unknown) => {
        if (typeof v !== 'string') return v;
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : v;
      };
    }
    if (t.startsWith('DECIMAL')) {
      // A double holds 15 significant digits exactly: such decimals become numbers, wider ones stay strings.
      return (v: unknown) =>
        typeof v === 'string' && v.replace(/[-+.]/g, '').replace(/^0+/, '').length <= 15 ? Number(v) : v;
    }
    return undefined;
  });
  if (convert.every((f) => f === undefined)) return rows;
  return rows.map((row) => row.map((v, i) => (convert[i] ? convert[i](v) : v)));
}

function arrowColumn(col: ColumnInfo, js: () => unknown[], json: () => unknown[]): Vector {
  const t = col.type.toUpperCase();
  let type: DataType;
  let values: unknown[];
  if (t === 'BOOLEAN') {
    type = new Bool();
    values = js();
  } else if (t === 'TINYINT' || t === 'SMALLINT' || t === 'INTEGER' || t === 'UTINYINT' || t === 'USMALLINT') {
    type = new Int32();
    values = js();
  } else if (t === 'BIGINT' || t === 'UINTEGER') {
    type = new Int64();
    values = js().map((v) => (v === null ? null : BigInt(v as bigint | number)));
  } else if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) {
    type = new Float64();
    values = js().map((v) => (v === null ? null : Number(v)));
  } else if (t === 'DATE') {
    type = new DateDay();
    values = js();
  } else if (t === 'TIMESTAMP' || t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMP_MS') {
    type = new TimestampMillisecond();
    values = js().map((v) => (v instanceof Date ? v.getTime() : v));
  } else if (t === 'VARCHAR') {
    type = new Utf8();
    values = js();
  } else {
    // Wide integers, UUIDs, intervals, nested and binary values: their JSON text, exact and portable.
    type = new Utf8();
    values = json().map((v) => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)));
  }
  return vectorFromArray(values, type) as Vector;
}

/** One Arrow IPC stream (schema + one record batch) for a page. */
export function pageToArrow(page: Page): Uint8Array {
  const vectors: Record<string, Vector> = {};
  page.columns.forEach((c, i) => {
    vectors[c.name] = arrowColumn(
      c,
      () => page.rowsJs.map((r) => r[i]),
      () => page.rowsJson.map((r) => r[i]),
    );
  });
  return tableToIPC(new Table(vectors), 'stream');
}
