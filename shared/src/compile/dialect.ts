// SQL dialects the compiler emits. `databricks` is Spark SQL (also used for Livy SQL sessions).
export const DIALECTS = ['duckdb', 'snowflake', 'databricks'] as const;
export type Dialect = (typeof DIALECTS)[number];
