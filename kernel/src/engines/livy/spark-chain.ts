// Runs a chain of cells in one remote Spark session: each upstream cell becomes a temp view named after the cell,
// views the session already holds (same input hash) are not recomputed, and the target's view is read back as the
// result. A session that dies under a chain is reported (its cells go stale) and the chain is run once more in a
// fresh session, so the user's run still succeeds.
import { PipebookError } from '@pipebook/shared';
import type { EngineProgress, TargetSpec } from '../engine.ts';
import { quoteSparkIdent, trimStatement } from './spark-code.ts';
import type { SessionBackend, SessionEntry, SparkSessionPool } from './spark-sessions.ts';
import type { SparkChainRequest, SparkCodeKind, SparkStep, SparkTable } from './spark-types.ts';
import { SessionLostError } from './spark-types.ts';

export interface StepControl {
  signal: AbortSignal;
  /** Remote progress of the statement in flight. */
  onProgress?: (p: EngineProgress) => void;
  step?: SparkStep;
}

export interface ReplBackend extends SessionBackend {
  /** Which session a chain whose target is of this kind runs in. */
  sessionKind(kind: SparkCodeKind): string;
  /** Registers the step's result as a temp view named `step.name`. */
  materialize(sessionId: string, step: SparkStep, inputs: string[], ctl: StepControl): Promise<void>;
  /** Reads a view back (the chain's result). */
  fetch(sessionId: string, view: string, ctl: StepControl): Promise<SparkTable>;
  /** Runs one Spark SQL query (ad-hoc execute, validate, catalog). */
  query(sessionId: string, sql: string, ctl: StepControl): Promise<SparkTable>;
  /** Runs one Spark SQL statement whose result is not needed (DDL, INSERT). */
  statement(sessionId: string, sql: string, ctl: StepControl): Promise<void>;
}

/** Notebook key for statements that belong to no notebook (Engine.execute, validate, catalog). */
export const ADHOC_NOTEBOOK = '';

export class SparkChainRunner {
  constructor(
    private readonly backend: ReplBackend,
    private readonly pool: SparkSessionPool,
  ) {}

  async runChain(req: SparkChainRequest): Promise<SparkTable> {
    const { steps, signal, onProgress } = req;
    if (steps.length === 0) throw new PipebookError('bad_request', 'Nothing to run: the chain has no cells.');
    const target = steps[steps.length - 1];
    const kind = this.backend.sessionKind(target.kind);
    return this.withRecovery(req.notebookId, kind, signal, onProgress, async (e, id) => {
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        const isTarget = i === steps.length - 1;
        const held = e.holdings.get(step.cellId);
        if (!isTarget && held && held.view === step.name && held.inputHash !== undefined) {
          if (held.inputHash === step.inputHash) continue;
        }
        const inputs = step.inputs ?? steps.slice(0, i).map((s) => s.name);
        const label = `${step.name} (${i + 1}/${steps.length})`;
        onProgress?.({ state: 'running', message: `Running ${label}` });
        await this.backend.materialize(id, step, inputs, {
          signal,
          step,
          onProgress: onProgress && ((p) => onProgress({ ...p, message: p.message ?? `Running ${label}` })),
        });
        if (e.id === id) e.holdings.set(step.cellId, { view: step.name, inputHash: step.inputHash });
      }
      return this.backend.fetch(id, target.name, { signal, step: target, onProgress });
    });
  }

  async query(sql: string, signal: AbortSignal, onProgress?: (p: EngineProgress) => void): Promise<SparkTable> {
    const kind = this.backend.sessionKind('sql');
    return this.withRecovery(ADHOC_NOTEBOOK, kind, signal, onProgress, (_e, id) =>
      this.backend.query(id, sql, { signal, onProgress }),
    );
  }

  /**
   * Writes a target table: replace is DROP + CREATE TABLE AS (portable across Hive and Delta catalogs), append creates
   * the table if needed and INSERTs. Returns the rows written.
   */
  async writeTable(target: TargetSpec, sql: string, signal: AbortSignal, onProgress?: (p: EngineProgress) => void) {
    if (target.type !== 'table') {
      throw new PipebookError(
        'bad_request',
        `Spark engines write tables; a file target (${target.format}) runs on the embedded engine.`,
      );
    }
    const name = [target.schema, target.table]
      .filter((p): p is string => !!p)
      .map(quoteSparkIdent)
      .join('.');
    const body = trimStatement(sql);
    const kind = this.backend.sessionKind('sql');
    const count = async (id: string) => {
      const t = await this.backend.query(id, `SELECT COUNT(*) AS n FROM ${name}`, { signal, onProgress });
      return Number(t.rows[0]?.[0] ?? 0);
    };
    if (target.mode === 'replace') {
      return this.withRecovery(ADHOC_NOTEBOOK, kind, signal, onProgress, async (_e, id) => {
        await this.backend.statement(id, `DROP TABLE IF EXISTS ${name}`, { signal, onProgress });
        await this.backend.statement(id, `CREATE TABLE ${name} AS\n${body}`, { signal, onProgress });
        return count(id);
      });
    }
    // An INSERT cut short by a session death may or may not have landed: never repeat it on its own.
    return this.withRecovery(
      ADHOC_NOTEBOOK,
      kind,
      signal,
      onProgress,
      async (_e, id) => {
        const shape = `CREATE TABLE IF NOT EXISTS ${name} AS SELECT * FROM (\n${body}\n) AS pipebook_shape LIMIT 0`;
        await this.backend.statement(id, shape, { signal, onProgress });
        const before = await count(id);
        await this.backend.statement(id, `INSERT INTO ${name}\n${body}`, { signal, onProgress });
        return (await count(id)) - before;
      },
      false,
    );
  }

  private async withRecovery<T>(
    notebookId: string,
    kind: string,
    signal: AbortSignal,
    onProgress: ((p: EngineProgress) => void) | undefined,
    body: (e: SessionEntry, id: string) => Promise<T>,
    retry = true,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const e = await this.pool.ensure(notebookId, kind, signal, onProgress);
      const id = e.id;
      if (id === undefined) continue;
      this.pool.track(e, 1);
      try {
        return await body(e, id);
      } catch (err) {
        if (!(err instanceof SessionLostError)) throw err;
        this.pool.lose(e, id, err.reason);
        if (attempt >= 1 || !retry || signal.aborted) {
          throw new PipebookError('engine_unavailable', `${err.reason} Run again to use a new session.`);
        }
        onProgress?.({ state: 'recovering', message: `${err.reason} Starting a new ${this.backend.noun}.` });
      } finally {
        this.pool.track(e, -1);
      }
    }
  }
}
