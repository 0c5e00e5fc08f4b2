// How the Snowflake test server puts DuckDB values on the wire: Snowflake's rowType (lowercase type names) and every
// cell as a string, encoded the way the SQL API v2 does without output-format parameters.
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { QueryColumn } from '../../contract/warehouse.ts';

export interface RowTypeEntry {
  name: string;
  database: string;
  schema: string;
  table: string;
  type: string;
  precision: number | null;
  scale: number | null;
  length: number | null;
  byteLength: number | null;
  nullable: boolean;
  collation: string | null;
}

function snowflakeType(t: DuckDBType): {
  type: string;
  precision: number | null;
  scale: number | null;
  length: number | null;
} {
  const none = { precision: null, scale: null, length: null };
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { type: 'boolean', ...none };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return { type: 'fixed', precision: 38, scale: 0, length: null };
    case DuckDBTypeId.DECIMAL: {
      const d = t as unknown as { width: number; scale: number };
      return { type: 'fixed', precision: d.width, scale: d.scale, length: null };
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { type: 'real', ...none };
    case DuckDBTypeId.DATE:
      return { type: 'date', ...none };
    case DuckDBTypeId.TIME:
      return { type: 'time', precision: 0, scale: 9, length: null };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { type: 'timestamp_ntz', precision: 0, scale: 9, length: null };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { type: 'timestamp_tz', precision: 0, scale: 9, length: null };
    case DuckDBTypeId.BLOB:
      return { type: 'binary', precision: null, scale: null, length: 8388608 };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { type: 'array', ...none };
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return { type: 'object', ...none };
    default:
      return { type: 'text', precision: null, scale: null, length: 16777216 };
  }
}

/**
 * Snowflake folds unquoted identifiers to upper case, so `SELECT country` answers COUNTRY. DuckDB keeps the case as
 * written; the test server upper-cases names made only of lower-case letters, digits and _ (an approximation: a
 * quoted lower-case name would stay lower-case in Snowflake).
 */
export function snowflakeColumnName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
}

export function rowTypeOf(columns: QueryColumn[]): RowTypeEntry[] {
  return columns.map((c) => {
    const t = snowflakeType(c.type);
    return {
      name: snowflakeColumnName(c.name),
      database: 'PIPEBOOK',
      schema: 'PUBLIC',
      table: '',
      ...t,
      byteLength: t.type === 'text' ? 16777216 : null,
      nullable: true,
      collation: null,
    };
  });
}

/** Whole and fractional parts of a microsecond count as "secs.fffffffff" (9 decimals). */
export function microsToSeconds(micros: bigint): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const secs = abs / 1_000_000n;
  const frac = String((abs % 1_000_000n) * 1000n).padStart(9, '0');
  return `${neg ? '-' : ''}${secs}.${frac}`;
}

export function encodeCell(v: DuckDBValue, nullAsString = false): string | null {
  if (v === null || v === undefined) return nullAsString ? 'null' : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return String(v);
  }
  if (typeof v === 'bigint' || typeof v === 'string') return String(v);
  if (v instanceof DuckDBDecimalValue) return v.toString();
  if (v instanceof DuckDBDateValue) return String(v.days);
  if (v instanceof DuckDBTimeValue) return microsToSeconds(v.micros);
  if (v instanceof DuckDBTimestampTZValue) return `${microsToSeconds(v.micros)} 1440`;
  if (v instanceof DuckDBTimestampValue) return microsToSeconds(v.micros);
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('hex').toUpperCase();
  return String(v);
}
