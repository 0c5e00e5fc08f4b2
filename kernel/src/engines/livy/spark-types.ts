// Types shared by the two Spark engines (Livy sessions and Databricks execution contexts): what a chain of cells looks
// like to them, what a remote REPL returns, and the session-loss event that drives engine-aware staleness.
import type { CellId, ColumnInfo } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import type { EngineProgress, ExecuteOutcome, TargetOutcome, TargetSpec } from '../engine.ts';

export type SparkCodeKind = 'sql' | 'pyspark';

/** One cell of a chain, in topological order; the last step is the cell being run. */
export interface SparkStep {
  cellId: CellId;
  /** The cell name: also the temp view name its result is registered under, which is how downstream cells read it. */
  name: string;
  kind: SparkCodeKind;
  /** Spark SQL (a SELECT whose upstream references are cell names) or PySpark code ending in a DataFrame. */
  code: string;
  /** The kernel's input hash: a step whose view the session already holds with the same hash is not recomputed. */
  inputHash?: string;
  /** Names of the cell's direct inputs (bound as DataFrames in PySpark). Default: every earlier step's name. */
  inputs?: string[];
  /**
   * SQL steps: lines of generated SQL in `code` before the cell's own text, so an error line maps back into the cell.
   * Absent = `code` is the cell's own text; null = generated SQL (a visual step or source), which has no line to point at.
   */
  sourceLineOffset?: number | null;
}

export interface SparkChainRequest {
  notebookId: string;
  steps: SparkStep[];
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
}

export interface SparkTable {
  columns: ColumnInfo[];
  rows: unknown[][];
  /** The remote side may have cut the rows short (Livy's row cap reached, Databricks' `truncated`). */
  truncated?: boolean;
  /** The view's full row count, when the rows were cut short. */
  totalRows?: number;
}

/** A session's lifecycle as the UI shows it. */
export type SessionPhase = 'starting' | 'idle' | 'busy' | 'dead';

export interface RemoteSessionState {
  phase: SessionPhase;
  /** The remote system's own word (Livy `not_started`, Databricks `Pending`, ...). */
  raw: string;
}

/** Emitted when a session that held cell results died or was replaced: those cells are now stale. */
export interface SessionLostEvent {
  engine: string;
  notebookId: string;
  /** Session key kind (`sql`, `pyspark` for Livy; `python` for a Databricks context). */
  kind: string;
  sessionId: string;
  /** Exactly the cells whose results (temp views) lived in the session. */
  cellIds: CellId[];
  /** Human-readable, e.g. `Livy session 4 is dead`. Goes to RunSummary.staleReason. */
  reason: string;
  at: number;
}

export interface EngineSessionView {
  notebookId: string;
  kind: string;
  /** Remote id (Livy session id, Databricks context id); absent while it is being created. */
  sessionId?: string;
  phase: SessionPhase;
  raw: string;
  /** ms epoch when the phase last changed. */
  since: number;
  /** Cells whose results the session holds as temp views. */
  cells: CellId[];
  error?: string;
}

/** `GET /api/engines/:name/sessions` answer. */
export interface EngineSessionsResponse {
  engine: string;
  type: string;
  sessions: EngineSessionView[];
}

/** What the kernel's run logic can use beyond the plain Engine: run a chain of cells with session reuse. */
export interface SparkCellEngine {
  runCells(req: SparkChainRequest): Promise<ExecuteOutcome>;
  /** A target cell: `req.steps` is the chain of the target's input; the table is written from its view. */
  writeCells(req: SparkChainRequest, target: TargetSpec): Promise<TargetOutcome>;
  onSessionLost(listener: (e: SessionLostEvent) => void): () => void;
  sessions(): Promise<EngineSessionsResponse>;
  /** Asks the remote side for each session's state; reports sessions that died while nobody was running anything. */
  checkSessions(): Promise<void>;
  /** Destroys a notebook's sessions (notebook closed). */
  releaseNotebook(notebookId: string): Promise<void>;
}

export function isSparkCellEngine(x: unknown): x is SparkCellEngine {
  return typeof x === 'object' && x !== null && typeof (x as SparkCellEngine).runCells === 'function';
}

/** Thrown by a backend when the session is gone or not running any more; the chain runner recovers from it. */
export class SessionLostError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SessionLostError';
  }
}

/** A user-code failure (Python exception or Spark SQL error) with the remote's own fields kept for the UI. */
export class SparkCodeError extends PipebookError {
  readonly ename: string;
  readonly evalue: string;
  readonly traceback: string[];
  constructor(
    fields: { ename: string; evalue: string; traceback: string[] },
    where: { cellId?: string; line?: number; column?: number } = {},
  ) {
    const tb = fields.traceback.join('').trim();
    const head = `${fields.ename}: ${fields.evalue}`;
    super('sql_error', tb ? `${head}\n${tb}` : head, where);
    this.ename = fields.ename;
    this.evalue = fields.evalue;
    this.traceback = fields.traceback;
  }
}
