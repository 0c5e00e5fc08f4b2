// Snowflake SQL API v2 sends every cell as a string (or null) whatever its type; this turns them into JS values using
// the column's rowType. Conventions shared by the remote engines: integers -> number (bigint past 2^53), decimals and
// floats -> number, BOOLEAN -> boolean, DATE/TIMESTAMP* -> Date (UTC; DATE at midnight; sub-millisecond digits are
// dropped), TIME -> 'HH:MM:SS[.fffffffff]' string, BINARY -> Uint8Array, VARIANT/OBJECT/ARRAY -> parsed JSON.
import type { ColumnInfo } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';

export interface SnowflakeRowType {
  name: string;
  type: string;
  precision?: number | null;
  scale?: number | null;
  length?: number | null;
  nullable?: boolean;
}

export type CellConverter = (v: string | null) => unknown;

const MS_PER_DAY = 86_400_000;

/** "1700000000.123456789" -> epoch milliseconds (exact to the millisecond, no float rounding of the seconds). */
export function secondsToMillis(s: string): number {
  const neg = s.startsWith('-');
  const [whole, frac = ''] = (neg ? s.slice(1) : s).split('.');
  const ms = Number(whole) * 1000 + Number((frac + '000').slice(0, 3));
  // Negative instants: "-1.5" means -1500 ms; the fraction belongs to the magnitude.
  return neg ? -ms : ms;
}

export function parseInteger(s: string): number | bigint {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

export function parseReal(s: string): number {
  switch (s) {
    case 'NaN':
      return Number.NaN;
    case 'inf':
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return Number(s);
  }
}

/** Seconds since midnight with up to 9 decimals -> 'HH:MM:SS[.fraction]'. */
export function secondsToTimeOfDay(s: string): string {
  const [whole, frac] = s.split('.');
  const total = Number(whole);
  const hh = String(Math.floor(total / 3600)).padStart(2, '0');
  const mm = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const ss = String(total % 60).padStart(2, '0');
  const f = frac?.replace(/0+$/, '');
  return `${hh}:${mm}:${ss}${f ? `.${f}` : ''}`;
}

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function nullable(f: (s: string) => unknown): CellConverter {
  return (v) => (v === null ? null : f(v));
}

export function converterFor(col: SnowflakeRowType): CellConverter {
  const type = col.type.toLowerCase();
  switch (type) {
    case 'fixed':
      return (col.scale ?? 0) === 0 ? nullable(parseInteger) : nullable(Number);
    case 'real':
    case 'float':
    case 'double':
      return nullable(parseReal);
    case 'boolean':
      return nullable((s) => s === 'true' || s === '1' || s === 'TRUE');
    case 'date':
      return nullable((s) => new Date(Number(s) * MS_PER_DAY));
    case 'time':
      return nullable(secondsToTimeOfDay);
    case 'timestamp_ntz':
    case 'timestamp_ltz':
      return nullable((s) => new Date(secondsToMillis(s)));
    case 'timestamp_tz':
      // "<epoch secs.9> <offset minutes + 1440>": the seconds are already the UTC instant; the offset is only how it
      // was displayed, which a JS Date cannot keep.
      return nullable((s) => new Date(secondsToMillis(s.split(' ')[0])));
    case 'binary':
      return nullable(hexToBytes);
    case 'variant':
    case 'object':
    case 'array':
      return nullable((s) => JSON.parse(s));
    case 'text':
    case 'char':
    case 'varchar':
    case 'string':
      return (v) => v;
    default:
      // Unknown or newer types (geography, vector, ...) stay as the string Snowflake sent.
      return (v) => v;
  }
}

/** The type name shown to users, in Snowflake's own terms. */
export function snowflakeTypeName(col: SnowflakeRowType): string {
  const type = col.type.toUpperCase();
  if (type === 'FIXED') return `NUMBER(${col.precision ?? 38},${col.scale ?? 0})`;
  if (type === 'REAL') return 'FLOAT';
  if (type === 'TEXT') return col.length ? `VARCHAR(${col.length})` : 'VARCHAR';
  return type;
}

export function columnsOf(rowType: SnowflakeRowType[]): ColumnInfo[] {
  return rowType.map((c) => ({ name: c.name, type: snowflakeTypeName(c) }));
}

export function rowConverter(rowType: SnowflakeRowType[]): (row: (string | null)[]) => unknown[] {
  const convs = rowType.map(converterFor);
  return (row) => {
    if (row.length !== convs.length)
      throw new PipebookError('internal', `Snowflake sent a row of ${row.length} cells for ${convs.length} columns`);
    const out = new Array(convs.length);
    for (let i = 0; i < convs.length; i++) out[i] = convs[i](row[i]);
    return out;
  };
}
