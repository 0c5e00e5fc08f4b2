// The notebook document's Yjs schema: root names, cell keys, kinds, config shapes and run summaries.
// This is the only module that knows raw Y.Map keys; everything else goes through operations.ts and read.ts.
import type { CellId } from '../ids.ts';

export const SCHEMA_VERSION = 1;

export const ROOT = {
  meta: 'meta',
  cells: 'cells',
  order: 'order',
  runs: 'runs',
} as const;

export const META_KEY = { title: 'title', schemaVersion: 'schemaVersion', defaultEngine: 'defaultEngine' } as const;

export const CELL_KEY = {
  id: 'id',
  name: 'name',
  kind: 'kind',
  source: 'source',
  config: 'config',
  engine: 'engine',
} as const;

export const CELL_KINDS = [
  'source',
  'sql',
  'filter',
  'select',
  'join',
  'aggregate',
  'sort',
  'limit',
  'union',
  'target',
  'markdown',
  'pyspark',
] as const;
export type CellKind = (typeof CELL_KINDS)[number];

/** Visual steps: edited with forms, compiled to SQL from `config`. */
export const VISUAL_KINDS = ['filter', 'select', 'join', 'aggregate', 'sort', 'limit', 'union'] as const;
export type VisualKind = (typeof VISUAL_KINDS)[number];

export function isVisualKind(kind: CellKind): kind is VisualKind {
  return (VISUAL_KINDS as readonly string[]).includes(kind);
}

/** Kinds that produce a relation other cells can read by name. */
export function producesRelation(kind: CellKind): boolean {
  return kind !== 'markdown' && kind !== 'target';
}

// ---- config shapes (values are plain JSON inside the cell's `config` Y.Map, one key per field) ----
// Visual steps refer to their inputs by cell id, so a rename never breaks them.

export type FileFormat = 'csv' | 'parquet' | 'json';

export type SourceConfig =
  | { type: 'table'; table: string; schema?: string; catalog?: string }
  | { type: 'file'; path: string; format: FileFormat };

export type FilterOp =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'contains'
  | 'starts_with'
  | 'ends_with'
  | 'in'
  | 'not_in'
  | 'is_null'
  | 'is_not_null';

export type ScalarValue = string | number | boolean | null;

export interface FilterCondition {
  column: string;
  op: FilterOp;
  /** Absent for is_null/is_not_null; an array for in/not_in. */
  value?: ScalarValue | ScalarValue[];
}
export interface FilterConfig {
  input: CellId;
  combinator: 'and' | 'or';
  conditions: FilterCondition[];
}

export type CastType = 'integer' | 'bigint' | 'double' | 'decimal' | 'varchar' | 'boolean' | 'date' | 'timestamp';
export interface SelectConfig {
  input: CellId;
  columns: Array<{ column: string; as?: string; cast?: CastType }>;
}

export type JoinType = 'inner' | 'left' | 'right' | 'full';
export interface JoinConfig {
  left: CellId;
  right: CellId;
  type: JoinType;
  on: Array<{ left: string; right: string }>;
  /** Output columns; empty or absent = every left column, then the right columns whose names are not join keys. */
  columns?: Array<{ side: 'left' | 'right'; column: string; as?: string }>;
}

export type AggregateFn = 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max';
export interface AggregateConfig {
  input: CellId;
  groupBy: string[];
  /** `column` may be absent only for count (count of rows). */
  measures: Array<{ fn: AggregateFn; column?: string; as: string }>;
}

export interface SortConfig {
  input: CellId;
  keys: Array<{ column: string; direction: 'asc' | 'desc'; nulls?: 'first' | 'last' }>;
}

export interface LimitConfig {
  input: CellId;
  count: number;
  offset?: number;
}

export interface UnionConfig {
  inputs: CellId[];
  /** UNION (distinct) versus UNION ALL; columns are matched by name. */
  distinct: boolean;
}

export type TargetConfig =
  | { input: CellId; type: 'table'; table: string; schema?: string; mode: 'replace' | 'append' }
  | { input: CellId; type: 'file'; path: string; format: FileFormat };

export interface CellConfigByKind {
  source: SourceConfig;
  sql: Record<string, never>;
  filter: FilterConfig;
  select: SelectConfig;
  join: JoinConfig;
  aggregate: AggregateConfig;
  sort: SortConfig;
  limit: LimitConfig;
  union: UnionConfig;
  target: TargetConfig;
  markdown: Record<string, never>;
  pyspark: Record<string, never>;
}
export type CellConfig = CellConfigByKind[CellKind];

/** A plain, immutable view of one cell, as read from the document. */
export interface CellSnapshot {
  id: CellId;
  name: string;
  kind: CellKind;
  /** SQL for `sql` cells, Markdown for `markdown`, Python for `pyspark`; unused by visual steps. */
  source: string;
  /** Raw config record; use the typed view from CellConfigByKind for the cell's kind. */
  config: Record<string, unknown>;
  /** Engine override; absent = the notebook's default engine. */
  engine?: string;
}

// ---- runs: written by the kernel, read by everyone ----

export const RUN_STATUSES = ['queued', 'running', 'done', 'error', 'cancelled', 'blocked', 'stale'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface ColumnInfo {
  name: string;
  /** Engine type name as the engine reports it (e.g. BIGINT, VARCHAR, DECIMAL(18,2)). */
  type: string;
}

export interface RunUser {
  id: string;
  name: string;
}

export interface RunSummary {
  status: RunStatus;
  runId: string;
  engine: string;
  by: RunUser;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  rowCount?: number;
  columns?: ColumnInfo[];
  /** Error in the cell's own source coordinates (1-based). */
  error?: { code: string; message: string; line?: number; column?: number };
  /** Input hash of the cell when this run started; compare with the current one to tell fresh from stale. */
  inputHash?: string;
  /** Progress while the engine reports it: fraction in [0, 1] and/or a message. */
  progress?: { fraction?: number; message?: string };
  /** Why the kernel marked the result stale (e.g. the engine session holding it died). */
  staleReason?: string;
  /** Why the cell did not run (e.g. an upstream cell failed). */
  blockedBy?: CellId;
}

export interface NotebookMeta {
  title: string;
  schemaVersion: number;
  defaultEngine: string;
}

export const DEFAULT_ENGINE = 'duckdb';

/** A cell name is what other cells use to read it: a plain SQL identifier. */
export const CELL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
