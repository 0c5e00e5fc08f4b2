// How the Databricks test server puts DuckDB values on the wire: manifest columns (type_name/type_text) and every
// value as its string representation (JSON_ARRAY format).
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
import { parseDuckDbError, type QueryColumn } from '../../contract/warehouse.ts';

export interface ManifestColumn {
  name: string;
  position: number;
  type_name: string;
  type_text: string;
  type_precision?: number;
  type_scale?: number;
}

function sparkType(t: DuckDBType): Omit<ManifestColumn, 'name' | 'position'> {
  const simple = (name: string, text = name) => ({ type_name: name, type_text: text });
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return simple('BOOLEAN');
    case DuckDBTypeId.TINYINT:
      return simple('BYTE', 'TINYINT');
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return simple('SHORT', 'SMALLINT');
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return simple('INT');
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return simple('LONG', 'BIGINT');
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return { type_name: 'DECIMAL', type_text: 'DECIMAL(38,0)', type_precision: 38, type_scale: 0 };
    case DuckDBTypeId.DECIMAL: {
      const d = t as unknown as { width: number; scale: number };
      return {
        type_name: 'DECIMAL',
        type_text: `DECIMAL(${d.width},${d.scale})`,
        type_precision: d.width,
        type_scale: d.scale,
      };
    }
    case DuckDBTypeId.FLOAT:
      return simple('FLOAT');
    case DuckDBTypeId.DOUBLE:
      return simple('DOUBLE');
    case DuckDBTypeId.DATE:
      return simple('DATE');
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return simple('TIMESTAMP');
    case DuckDBTypeId.BLOB:
      return simple('BINARY');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return simple('ARRAY', 'ARRAY<STRING>');
    case DuckDBTypeId.STRUCT:
      return simple('STRUCT', 'STRUCT<>');
    case DuckDBTypeId.MAP:
      return simple('MAP', 'MAP<STRING,STRING>');
    default:
      // Spark has no TIME type; like other unsupported types it arrives as STRING.
      return simple('STRING');
  }
}

export function manifestColumns(columns: QueryColumn[]): ManifestColumn[] {
  return columns.map((c, position) => ({ name: c.name, position, ...sparkType(c.type) }));
}

function isoFromMicros(micros: bigint): string {
  const ms = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  const base = new Date(ms).toISOString();
  return base;
}

export function encodeValue(v: DuckDBValue): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return String(v);
  }
  if (typeof v === 'bigint' || typeof v === 'string') return String(v);
  if (v instanceof DuckDBDecimalValue) return v.toString();
  if (v instanceof DuckDBDateValue) return v.toString();
  if (v instanceof DuckDBTimeValue) return v.toString();
  if (v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) return isoFromMicros(v.micros);
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('base64');
  return String(v);
}

/**
 * Spark SQL that DuckDB spells differently, rewritten before execution (a test-server stand-in, not a translator):
 * backtick identifiers become double-quoted ones and `* EXCEPT (...)` becomes `* EXCLUDE (...)`. Lengths are kept
 * where it matters for error positions (backticks map one to one).
 */
export function sparkToDuckDb(sql: string): string {
  return backticksToDoubleQuotes(sql).replace(/\*\s+EXCEPT\s*\(/gi, (m) => m.replace(/EXCEPT/i, 'EXCLUDE'));
}

/** Backtick identifiers are Spark SQL; DuckDB wants double quotes. Same length, so error positions still match. */
export function backticksToDoubleQuotes(sql: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (quote) {
      if (ch === quote) {
        if (quote === '`' && sql[i + 1] === '`') {
          out += '`';
          i++;
          continue;
        }
        out += quote === '`' ? '"' : ch;
        quote = undefined;
        continue;
      }
      out += quote === '`' && ch === '"' ? '""' : ch;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      quote = ch;
      out += ch === '`' ? '"' : ch;
      continue;
    }
    out += ch;
  }
  return out;
}

/** DuckDB's error, told the way Spark SQL tells it: `[ERROR_CLASS] message SQLSTATE: xxxxx; line L pos P`. */
export function sparkError(message: string): { message: string; sqlState: string } {
  const e = parseDuckDbError(message);
  const where = e.line !== undefined ? `; line ${e.line} pos ${e.position}` : '';
  switch (e.kind) {
    case 'parser':
      return {
        message: `[PARSE_SYNTAX_ERROR] Syntax error at or near '${e.token ?? ''}'. SQLSTATE: 42601 (line ${e.line ?? 1}, pos ${e.position ?? 0})`,
        sqlState: '42601',
      };
    case 'binder':
      return {
        message: `[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] A column, variable, or function parameter with name \`${e.token ?? ''}\` cannot be resolved. SQLSTATE: 42703${where}`,
        sqlState: '42703',
      };
    case 'catalog':
      return {
        message: `[TABLE_OR_VIEW_NOT_FOUND] The table or view \`${e.token ?? ''}\` cannot be found. Verify the spelling and correctness of the schema and catalog. SQLSTATE: 42P01${where}`,
        sqlState: '42P01',
      };
    case 'conversion':
      return { message: `[CAST_INVALID_INPUT] ${e.text} SQLSTATE: 22018`, sqlState: '22018' };
    case 'other':
      return { message: `[INTERNAL_ERROR] ${e.text} SQLSTATE: XX000`, sqlState: 'XX000' };
  }
}
