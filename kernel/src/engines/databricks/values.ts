// Databricks JSON_ARRAY results carry every value as a string (or null); this converts them by the manifest's
// type_name, with the same JS conventions as the Snowflake engine (see ../snowflake/values.ts).
import type { ColumnInfo } from '@pipebook/shared';
import { parseInteger, parseReal } from '../snowflake/values.ts';

export interface DatabricksColumn {
  name: string;
  position?: number;
  type_name: string;
  type_text?: string;
  type_precision?: number;
  type_scale?: number;
}

type Convert = (s: string) => unknown;

function converter(col: DatabricksColumn): Convert {
  switch (col.type_name.toUpperCase()) {
    case 'BYTE':
    case 'SHORT':
    case 'INT':
    case 'LONG':
      return parseInteger;
    case 'DECIMAL':
      return (col.type_scale ?? 0) === 0 ? parseInteger : Number;
    case 'FLOAT':
    case 'DOUBLE':
      return parseReal;
    case 'BOOLEAN':
      return (s) => s === 'true';
    case 'DATE':
      return (s) => new Date(`${s}T00:00:00Z`);
    case 'TIMESTAMP':
    case 'TIMESTAMP_NTZ':
      // ISO 8601; a value without zone is the session time zone, which Pipebook sets to UTC.
      return (s) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
    case 'BINARY':
      return (s) => Uint8Array.from(Buffer.from(s, 'base64'));
    case 'ARRAY':
    case 'MAP':
    case 'STRUCT':
      return (s) => JSON.parse(s);
    default:
      return (s) => s;
  }
}

export function columnsOf(cols: DatabricksColumn[]): ColumnInfo[] {
  return cols.map((c) => ({ name: c.name, type: (c.type_text ?? c.type_name).toUpperCase() }));
}

export function rowConverter(cols: DatabricksColumn[]): (row: (string | null)[]) => unknown[] {
  const convs = cols.map(converter);
  return (row) => {
    const out = new Array(convs.length);
    for (let i = 0; i < convs.length; i++) {
      const v = row[i];
      out[i] = v === null || v === undefined ? null : convs[i](v);
    }
    return out;
  };
}
