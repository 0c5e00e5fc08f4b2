// Per-engine SQL: the CodeMirror dialect used for highlighting and the sql-formatter language used by Format.
// lang-sql ships no DuckDB, Snowflake or Spark dialect, so each is defined from its closest relative plus the
// keywords and quoting its engine really has.
import { PostgreSQL, SQLDialect, StandardSQL } from '@codemirror/lang-sql';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import type { FormatOptionsWithLanguage } from 'sql-formatter';

const DUCKDB_EXTRA =
  'qualify pivot unpivot exclude replace columns struct list map union_by_name read_csv read_parquet read_json ' +
  'describe summarize install load attach detach asof positional sample using ilike glob similar';
const SNOWFLAKE_EXTRA =
  'qualify pivot unpivot lateral flatten variant object array sample tablesample ilike rlike regexp match_recognize ' +
  'warehouse stage copy merge';
const SPARK_EXTRA =
  'lateral view explode cluster distribute sort partitioned tblproperties rlike regexp pivot unpivot tablesample ' +
  'struct array map named_struct delta cache uncache refresh';

function extend(base: SQLDialect, extra: string, spec: Partial<SQLDialect['spec']> = {}): SQLDialect {
  return SQLDialect.define({
    ...base.spec,
    ...spec,
    keywords: `${base.spec.keywords ?? ''} ${extra}`,
  });
}

const DIALECT_CACHE = new Map<Dialect, SQLDialect>();

export function codemirrorDialect(d: Dialect): SQLDialect {
  let out = DIALECT_CACHE.get(d);
  if (out) return out;
  switch (d) {
    case 'duckdb':
      out = extend(PostgreSQL, DUCKDB_EXTRA);
      break;
    case 'snowflake':
      out = extend(StandardSQL, SNOWFLAKE_EXTRA, { doubleDollarQuotedStrings: true, caseInsensitiveIdentifiers: true });
      break;
    case 'databricks':
      out = extend(StandardSQL, SPARK_EXTRA, { identifierQuotes: '`', backslashEscapes: true });
      break;
  }
  DIALECT_CACHE.set(d, out);
  return out;
}

export function formatterLanguage(d: Dialect): FormatOptionsWithLanguage['language'] {
  switch (d) {
    case 'duckdb':
      return 'duckdb';
    case 'snowflake':
      return 'snowflake';
    case 'databricks':
      return 'spark';
  }
}

/** Engines report their dialect; an unknown engine name falls back to DuckDB, the embedded default. */
export function dialectOf(engineDialects: Record<string, Dialect>, engine: string): Dialect {
  return engineDialects[engine] ?? 'duckdb';
}
