// The Livy engine: Spark SQL and PySpark cells in Livy interactive sessions, one per notebook and kind. Livy >= 0.5
// runs any statement kind in any session, so a chain whose target is SQL runs (PySpark steps included) in the
// notebook's `sql` session and a PySpark target in its `pyspark` session: two REPL queues, so a long PySpark job does
// not hold up SQL cells.

import { PipebookError } from '@pipebook/shared';
import {
  LIVY_ENDED_STATES,
  LivyClient,
  type LivyClientOptions,
  LivyNotFoundError,
  livyEndReason,
} from './livy-client.ts';
import { runLivyStatement } from './livy-statements.ts';
import type { ReplBackend, StepControl } from './spark-chain.ts';
import {
  createViewSql,
  parseStructSchema,
  pysparkCellCode,
  quoteSparkIdent,
  sparkRows,
  sqlWhere,
  tracebackLine,
} from './spark-code.ts';
import { SparkReplEngine } from './spark-repl-engine.ts';
import { DEFAULT_POLL_MIN_MS } from './spark-sessions.ts';
import type { RemoteSessionState, SparkCodeKind, SparkStep, SparkTable } from './spark-types.ts';
import { SessionLostError } from './spark-types.ts';

export interface LivyConnection {
  type: 'livy';
  name: string;
  url: string;
  auth?: { type: 'basic'; user: string; password: string };
  /** Livy `proxyUser` for new sessions. */
  proxyUser?: string;
  doAs?: string;
  /** Extra fields for `POST /sessions` (driverMemory, executorMemory, numExecutors, queue, conf, ttl, ...). */
  session?: Record<string, unknown>;
  pollMinMs?: number;
  pollMaxMs?: number;
  startTimeoutMs?: number;
  requestTimeoutMs?: number;
  notReadyBudgetMs?: number;
  /** Livy's `livy.rsc.sql.num-rows` (default 1000): a result this long may have been cut short. */
  sqlNumRows?: number;
  /** Poll session states this often to notice deaths between runs (0 = only when the UI asks). Default 30 s. */
  healthCheckMs?: number;
}

const PHASE: Record<string, RemoteSessionState['phase']> = {
  not_started: 'starting',
  starting: 'starting',
  recovering: 'starting',
  idle: 'idle',
  busy: 'busy',
};

class LivyBackend implements ReplBackend {
  readonly noun = 'Livy session';
  readonly capNote = 'Livy returns at most livy.rsc.sql.num-rows rows per statement (raise it in livy.conf).';
  constructor(
    private readonly client: LivyClient,
    private readonly conn: LivyConnection,
  ) {}

  sessionKind(kind: SparkCodeKind): string {
    return kind;
  }

  async create(notebookId: string, kind: string): Promise<string> {
    const suffix = Math.random().toString(36).slice(2, 8);
    const s = await this.client.createSession({
      ...(this.conn.session ?? {}),
      kind,
      // Livy rejects duplicate session names, and a notebook may need a second session after the first died.
      name: `pipebook-${notebookId || 'adhoc'}-${kind}-${suffix}`.slice(0, 100),
      ...(this.conn.proxyUser ? { proxyUser: this.conn.proxyUser } : {}),
    });
    return String(s.id);
  }

  async state(id: string): Promise<RemoteSessionState> {
    try {
      const { state } = await this.client.getSessionState(Number(id));
      return { phase: LIVY_ENDED_STATES.has(state) ? 'dead' : (PHASE[state] ?? 'starting'), raw: state };
    } catch (e) {
      if (e instanceof LivyNotFoundError) {
        throw new SessionLostError(`Livy session ${id} no longer exists (expired or deleted).`);
      }
      throw e;
    }
  }

  destroy(id: string): Promise<void> {
    return this.client.deleteSession(Number(id));
  }

  endReason(id: string, raw: string): string {
    return livyEndReason(id, raw);
  }

  async failureDetail(id: string): Promise<string> {
    const { log } = await this.client.getLog(Number(id), undefined, 5);
    const lines = log.map((l) => l.trim()).filter(Boolean);
    return lines.length ? `Last log lines: ${lines.join(' | ')}` : '';
  }

  /** `lineOffset`: lines in front of the step's SQL; null = the SQL has no line of the cell's own text. */
  private run(id: string, code: string, kind: SparkCodeKind, ctl: StepControl, lineOffset: number | null = 0) {
    const step = ctl.step;
    return runLivyStatement(this.client, Number(id), code, kind, {
      signal: ctl.signal,
      onProgress: ctl.onProgress,
      pollMinMs: this.conn.pollMinMs ?? DEFAULT_POLL_MIN_MS,
      pollMaxMs: this.conn.pollMaxMs ?? 1000,
      notReadyBudgetMs: this.conn.notReadyBudgetMs ?? 120_000,
      where: (o) => {
        if (!step) return kind === 'sql' && lineOffset !== null ? sqlWhere(o.evalue, lineOffset) : {};
        if (kind === 'pyspark') {
          const line = tracebackLine(o.traceback, step.name);
          return { cellId: step.cellId, ...(line ? { line } : {}) };
        }
        return { cellId: step.cellId, ...(lineOffset === null ? {} : sqlWhere(o.evalue, lineOffset)) };
      },
    });
  }

  async materialize(id: string, step: SparkStep, inputs: string[], ctl: StepControl): Promise<void> {
    if (step.kind === 'sql') {
      const offset = step.sourceLineOffset === null ? null : 1 + (step.sourceLineOffset ?? 0);
      await this.run(id, createViewSql(step.name, step.code), 'sql', ctl, offset);
    } else await this.run(id, pysparkCellCode(step.name, step.code, inputs), 'pyspark', ctl);
  }

  async fetch(id: string, view: string, ctl: StepControl): Promise<SparkTable> {
    const t = await this.query(id, `SELECT * FROM ${quoteSparkIdent(view)}`, { ...ctl, step: undefined });
    return t.rows.length >= (this.conn.sqlNumRows ?? 1000) ? { ...t, truncated: true } : t;
  }

  async statement(id: string, sql: string, ctl: StepControl): Promise<void> {
    await this.run(id, sql, 'sql', ctl);
  }

  async query(id: string, sql: string, ctl: StepControl): Promise<SparkTable> {
    const out = await this.run(id, sql, 'sql', ctl);
    const json = out.data['application/json'] as { schema: unknown; data: unknown[][] } | undefined;
    if (!json) throw new PipebookError('engine_unavailable', 'Livy answered a SQL statement without a JSON result.');
    const columns = parseStructSchema(json.schema);
    return { columns, rows: sparkRows(json.data ?? [], columns) };
  }
}

export class LivyEngine extends SparkReplEngine {
  constructor(readonly conn: LivyConnection) {
    const clientOpts: LivyClientOptions = {
      url: conn.url,
      name: conn.name,
      ...(conn.auth ? { auth: { user: conn.auth.user, password: conn.auth.password } } : {}),
      ...(conn.doAs ? { doAs: conn.doAs } : {}),
      ...(conn.requestTimeoutMs ? { requestTimeoutMs: conn.requestTimeoutMs } : {}),
    };
    let host = conn.url;
    try {
      host = new URL(conn.url).host;
    } catch {
      // Keep the raw string; the first request will report the bad URL.
    }
    super(
      { name: conn.name, type: 'livy', dialect: 'databricks', label: `Livy (${host})` },
      new LivyBackend(new LivyClient(clientOpts), conn),
      {
        engine: conn.name,
        pollMinMs: conn.pollMinMs,
        pollMaxMs: conn.pollMaxMs,
        startTimeoutMs: conn.startTimeoutMs,
        healthCheckMs: conn.healthCheckMs,
      },
    );
  }
}

export function createLivyEngine(conn: LivyConnection): LivyEngine {
  if (!/^https?:\/\//.test(conn.url)) {
    throw new PipebookError('invalid_config', `Livy connection ${conn.name}: url must start with http:// or https://.`);
  }
  return new LivyEngine(conn);
}
