// The one interface every execution engine implements (DuckDB, Snowflake, Databricks, Livy). The run logic only
// talks to this; engines never see the notebook, only compiled SQL.
//
// Changes since the first version (announced for engine authors): `writeTarget` (optional) writes a target cell's
// result to a table or file; `execute` and `writeTarget` report SQL errors as PipebookError('sql_error', message,
// { line, column }) with positions in the SQL they were given, and cancellation as PipebookError('cancelled');
// `refreshCatalog` (optional) drops a cached catalog, called for `GET /api/engines/:name/catalog?refresh=1`.
import type { ColumnInfo, FileFormat } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';

/** `databricks` is a SQL warehouse (statement API); `databricks-cluster` an all-purpose cluster (Spark sessions). */
export type EngineType = 'duckdb' | 'snowflake' | 'databricks' | 'livy' | 'databricks-cluster';

export interface EngineInfo {
  /** Name from the config (`duckdb` for the embedded one); what cells and notebooks refer to. */
  name: string;
  type: EngineType;
  dialect: Dialect;
  /** Human label for the UI. Never contains secrets. */
  label: string;
}

export interface EngineProgress {
  /** Engine-specific state (e.g. Snowflake "running", Databricks "PENDING", Livy "busy"). */
  state?: string;
  /** Fraction done in [0, 1] when the engine reports it. */
  fraction?: number;
  /** Rows received so far while paging a remote result. */
  rows?: number;
  message?: string;
}

export interface ExecuteRequest {
  /** One compiled SELECT (the cell and its upstream chain as CTEs). */
  sql: string;
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  /** Where a result that the engine can write itself (embedded DuckDB) goes: a Parquet file path. */
  resultPath: string;
  /** Free-form tag for the remote side (query tag), e.g. the run id. */
  tag?: string;
}

export type Row = unknown[];

/**
 * Either the engine wrote the result to `resultPath` itself (embedded DuckDB: nothing passes through the Node heap),
 * or it streams row batches that the kernel's result store writes there (remote engines page them in).
 */
export type ExecuteOutcome =
  | { type: 'materialized'; columns: ColumnInfo[]; rowCount: number }
  | { type: 'stream'; columns: ColumnInfo[]; batches: AsyncIterable<Row[]> };

export interface CatalogColumn {
  name: string;
  type: string;
}
export interface CatalogTable {
  catalog?: string;
  schema: string;
  name: string;
  columns: CatalogColumn[];
}

/** Where a target cell writes. File paths are absolute and already checked to lie inside the data folder. */
export type TargetSpec =
  | { type: 'table'; table: string; schema?: string; mode: 'replace' | 'append' }
  | { type: 'file'; path: string; format: FileFormat };

export interface WriteTargetRequest {
  /** The compiled SELECT whose rows are written. */
  sql: string;
  target: TargetSpec;
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
}

export interface TargetOutcome {
  rowCount: number;
}

export interface Engine {
  readonly info: EngineInfo;
  execute(req: ExecuteRequest): Promise<ExecuteOutcome>;
  /** Cheap check that SQL compiles and what columns it returns (EXPLAIN / LIMIT 0 or the engine's equivalent). */
  validate(sql: string, signal?: AbortSignal): Promise<ColumnInfo[]>;
  catalog(signal?: AbortSignal): Promise<CatalogTable[]>;
  /** Forgets a cached catalog so the next `catalog()` reads the remote side again (engines that cache it). */
  refreshCatalog?(): void | Promise<void>;
  /** Writes a target cell's rows; engines without it refuse target cells with a clear error. */
  writeTarget?(req: WriteTargetRequest): Promise<TargetOutcome>;
  close(): Promise<void>;
}
