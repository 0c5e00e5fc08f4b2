// Quoting of identifiers and literals per dialect. Every name and value that comes from a cell's config goes through
// here, so nothing in config can end a literal or identifier early (no injection through config).
import { PipebookError } from '../errors.ts';
import type { CastType } from '../notebook/schema.ts';
import type { Dialect } from './dialect.ts';

/** Characters no engine accepts inside names or text literals; refusing them keeps the rules below exact. */
const FORBIDDEN = /\u0000/;

function check(text: string, what: string): void {
  if (FORBIDDEN.test(text)) throw new PipebookError('invalid_config', `${what} contains a NUL character.`);
}

/** Snowflake folds unquoted names to upper case; a name that looks like a plain identifier is meant that way. */
const SNOWFLAKE_PLAIN = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * An identifier as the dialect must see it. DuckDB and Spark compare names without regard to case, so the name is
 * quoted as written ("..." and `...`, the quote doubled inside). Snowflake folds unquoted names to upper case and
 * compares quoted ones exactly; a plain name (letters, digits, _ and $) is emitted upper-cased in quotes, which is
 * what typing it unquoted means, so `amount` from a form finds the column AMOUNT and a name such as `order` that is a
 * reserved word still parses. Any other name is kept exactly as written.
 */
export function quoteIdent(dialect: Dialect, name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new PipebookError('invalid_config', 'A name is empty.');
  check(name, `The name "${name.slice(0, 40)}"`);
  switch (dialect) {
    case 'duckdb':
      return `"${name.replaceAll('"', '""')}"`;
    case 'snowflake': {
      const n = SNOWFLAKE_PLAIN.test(name) ? name.toUpperCase() : name;
      return `"${n.replaceAll('"', '""')}"`;
    }
    case 'databricks':
      return `\`${name.replaceAll('`', '``')}\``;
  }
}

/** A dotted name, each part quoted: catalog.schema.table. Empty parts are left out. */
export function quoteQualified(dialect: Dialect, parts: ReadonlyArray<string | undefined>): string {
  return parts
    .filter((p): p is string => p !== undefined && p !== '')
    .map((p) => quoteIdent(dialect, p))
    .join('.');
}

/**
 * A string literal. DuckDB strings take no backslash escapes ('' is the only escape). Snowflake reads backslash
 * escapes in '...' and also accepts '': backslashes are doubled. Spark reads backslash escapes, and two adjacent
 * literals ('a''b') are concatenated rather than escaped, so quotes become \' there.
 */
export function stringLiteral(dialect: Dialect, value: string): string {
  check(value, 'A text value');
  switch (dialect) {
    case 'duckdb':
      return `'${value.replaceAll("'", "''")}'`;
    case 'snowflake':
      return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
    case 'databricks':
      return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  }
}

export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new PipebookError('invalid_config', `${value} is not a finite number.`);
  return String(value);
}

const CAST_TYPES: Record<Dialect, Record<CastType, string>> = {
  duckdb: {
    integer: 'INTEGER',
    bigint: 'BIGINT',
    double: 'DOUBLE',
    decimal: 'DECIMAL(38, 9)',
    varchar: 'VARCHAR',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  },
  snowflake: {
    integer: 'INTEGER',
    bigint: 'BIGINT',
    double: 'DOUBLE',
    decimal: 'DECIMAL(38, 9)',
    varchar: 'VARCHAR',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP_NTZ',
  },
  databricks: {
    integer: 'INT',
    bigint: 'BIGINT',
    double: 'DOUBLE',
    decimal: 'DECIMAL(38, 9)',
    varchar: 'STRING',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  },
};

export const CAST_TYPE_NAMES = Object.keys(CAST_TYPES.duckdb) as CastType[];

export function castTypeSql(dialect: Dialect, type: CastType): string {
  return CAST_TYPES[dialect][type];
}
