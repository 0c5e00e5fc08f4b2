// What every REPL-backed Spark engine (Livy sessions, Databricks cluster contexts) does the same way: a session pool
// per notebook, a chain runner over it, validate/catalog through the runner, and a periodic health check. Engines
// differ only in their backend (how statements reach the remote REPL) and their info.
import type { ColumnInfo } from '@pipebook/shared';
import type {
  CatalogTable,
  Engine,
  EngineInfo,
  ExecuteOutcome,
  ExecuteRequest,
  TargetOutcome,
  TargetSpec,
  WriteTargetRequest,
} from '../engine.ts';
import { type ReplBackend, SparkChainRunner } from './spark-chain.ts';
import { trimStatement } from './spark-code.ts';
import { type SessionPoolOptions, SparkSessionPool } from './spark-sessions.ts';
import type {
  EngineSessionsResponse,
  SessionLostEvent,
  SparkCellEngine,
  SparkChainRequest,
  SparkTable,
} from './spark-types.ts';

export interface SparkReplEngineOptions extends Omit<SessionPoolOptions, 'backend'> {
  /** How often to ask the remote side whether sessions are still alive; 0 turns it off. Default 30 s. */
  healthCheckMs?: number;
}

function stream(t: SparkTable): ExecuteOutcome {
  return {
    type: 'stream',
    columns: t.columns,
    batches: (async function* () {
      if (t.rows.length) yield t.rows;
    })(),
  };
}

const noSignal = () => new AbortController().signal;

export abstract class SparkReplEngine implements Engine, SparkCellEngine {
  private readonly pool: SparkSessionPool;
  private readonly runner: SparkChainRunner;
  private readonly timer?: NodeJS.Timeout;

  constructor(
    readonly info: EngineInfo,
    backend: ReplBackend,
    opts: SparkReplEngineOptions,
  ) {
    const { healthCheckMs, ...poolOpts } = opts;
    this.pool = new SparkSessionPool({ ...poolOpts, backend });
    this.runner = new SparkChainRunner(backend, this.pool);
    const every = healthCheckMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.checkSessions().catch(() => {}), every);
      this.timer.unref();
    }
  }

  async execute(req: ExecuteRequest): Promise<ExecuteOutcome> {
    return stream(await this.runner.query(req.sql, req.signal, req.onProgress));
  }

  async runCells(req: SparkChainRequest): Promise<ExecuteOutcome> {
    return stream(await this.runner.runChain(req));
  }

  async writeCells(req: SparkChainRequest, target: TargetSpec): Promise<TargetOutcome> {
    return { rowCount: await this.runner.writeChain(req, target) };
  }

  async writeTarget(req: WriteTargetRequest): Promise<TargetOutcome> {
    return { rowCount: await this.runner.writeTable(req.target, req.sql, req.signal, req.onProgress) };
  }

  async validate(sql: string, signal?: AbortSignal): Promise<ColumnInfo[]> {
    const q = `SELECT * FROM (\n${trimStatement(sql)}\n) AS pipebook_validate LIMIT 0`;
    return (await this.runner.query(q, signal ?? noSignal())).columns;
  }

  catalog(signal?: AbortSignal): Promise<CatalogTable[]> {
    return this.runner.catalog(signal ?? noSignal());
  }

  onSessionLost(listener: (e: SessionLostEvent) => void): () => void {
    return this.pool.onSessionLost(listener);
  }

  async sessions(): Promise<EngineSessionsResponse> {
    await this.pool.check();
    return { engine: this.info.name, type: this.info.type, sessions: this.pool.views() };
  }

  checkSessions(): Promise<void> {
    return this.pool.check();
  }

  releaseNotebook(notebookId: string): Promise<void> {
    return this.pool.release(notebookId);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pool.close();
  }
}
