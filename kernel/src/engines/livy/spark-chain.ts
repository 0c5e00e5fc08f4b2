// Runs a chain of cells in one remote Spark session: each upstream cell becomes a temp view named after the cell,
// views the session already holds (same input hash) are not recomputed, and the target's view is read back as the
// result. A session that dies under a chain is reported (its cells go stale) and the chain is run once more in a
// fresh session, so the user's run still succeeds.
import { PipebookError } from '@pipebook/shared';
import type { CatalogTable, EngineProgress, TargetSpec } from '../engine.ts';
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
  /** Why a result can be cut short, for the notice shown when it is. */
  readonly capNote: string;
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
    const target = this.lastStep(req);
    const kind = this.backend.sessionKind(target.kind);
    return this.withRecovery(req.notebookId, kind, req.signal, req.onProgress, async (e, id) => {
      await this.materializeChain(e, id, req, true);
      const ctl = { signal: req.signal, onProgress: req.onProgress };
      const table = await this.backend.fetch(id, target.name, { ...ctl, step: target });
      if (!table.truncated) return table;
      // The cell's view in the session is complete (downstream cells read all of it); only this copy is cut short.
      const n = await this.backend.query(id, `SELECT COUNT(*) AS n FROM ${quoteSparkIdent(target.name)}`, ctl);
      const total = Number(n.rows[0]?.[0] ?? 0);
      if (total <= table.rows.length) return { ...table, truncated: false };
      req.onProgress?.({
        rows: table.rows.length,
        message: `Showing the first ${table.rows.length} of ${total} rows: ${this.backend.capNote}`,
      });
      return { ...table, totalRows: total };
    });
  }

  /**
   * Runs a target cell: its input chain is materialised in the notebook's session (a held, fresh input is reused), then
   * the table is written from the input's view in that same session. Returns the rows written.
   */
  async writeChain(req: SparkChainRequest, target: TargetSpec): Promise<number> {
    const input = this.lastStep(req);
    const kind = this.backend.sessionKind(input.kind);
    return this.withRecovery(
      req.notebookId,
      kind,
      req.signal,
      req.onProgress,
      async (e, id) => {
        await this.materializeChain(e, id, req, false);
        return this.writeInSession(
          id,
          target,
          `SELECT * FROM ${quoteSparkIdent(input.name)}`,
          req.signal,
          req.onProgress,
        );
      },
      target.type === 'table' && target.mode === 'replace',
    );
  }

  private lastStep(req: SparkChainRequest): SparkStep {
    const last = req.steps.at(-1);
    if (!last) throw new PipebookError('bad_request', 'Nothing to run: the chain has no cells.');
    return last;
  }

  /** Registers every step's view, skipping views the session holds with the same input hash. */
  private async materializeChain(e: SessionEntry, id: string, req: SparkChainRequest, runLast: boolean) {
    const { steps, signal, onProgress } = req;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const held = e.holdings.get(step.cellId);
      const mustRun = runLast && i === steps.length - 1;
      if (!mustRun && held && held.view === step.name && held.inputHash !== undefined) {
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
  }

  async query(sql: string, signal: AbortSignal, onProgress?: (p: EngineProgress) => void): Promise<SparkTable> {
    const kind = this.backend.sessionKind('sql');
    return this.withRecovery(ADHOC_NOTEBOOK, kind, signal, onProgress, (_e, id) =>
      this.backend.query(id, sql, { signal, onProgress }),
    );
  }

  /** Writes a target table from ad-hoc compiled SQL (Engine.writeTarget). Returns the rows written. */
  async writeTable(target: TargetSpec, sql: string, signal: AbortSignal, onProgress?: (p: EngineProgress) => void) {
    const kind = this.backend.sessionKind('sql');
    return this.withRecovery(
      ADHOC_NOTEBOOK,
      kind,
      signal,
      onProgress,
      (_e, id) => this.writeInSession(id, target, sql, signal, onProgress),
      target.type === 'table' && target.mode === 'replace',
    );
  }

  /**
   * Replace is DROP + CREATE TABLE AS (portable across Hive and Delta catalogs); append creates the table if needed,
   * then INSERTs. Returns the rows written. An INSERT cut short by a session death may or may not have landed, so
   * callers retry only replace.
   */
  private async writeInSession(
    id: string,
    target: TargetSpec,
    sql: string,
    signal: AbortSignal,
    onProgress?: (p: EngineProgress) => void,
  ): Promise<number> {
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
    const ctl = { signal, onProgress };
    const count = async () => {
      const t = await this.backend.query(id, `SELECT COUNT(*) AS n FROM ${name}`, ctl);
      return Number(t.rows[0]?.[0] ?? 0);
    };
    if (target.mode === 'replace') {
      await this.backend.statement(id, `DROP TABLE IF EXISTS ${name}`, ctl);
      await this.backend.statement(id, `CREATE TABLE ${name} AS\n${body}`, ctl);
      return count();
    }
    const shape = `CREATE TABLE IF NOT EXISTS ${name} AS SELECT * FROM (\n${body}\n) AS pipebook_shape LIMIT 0`;
    await this.backend.statement(id, shape, ctl);
    const before = await count();
    await this.backend.statement(id, `INSERT INTO ${name}\n${body}`, ctl);
    return (await count()) - before;
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

  /** Tables (not temp views) with their columns, from SHOW TABLES and DESCRIBE TABLE in a session. */
  async catalog(signal: AbortSignal): Promise<CatalogTable[]> {
    const tables = await this.query('SHOW TABLES', signal);
    const col = (n: string) => tables.columns.findIndex((c) => c.name === n);
    const iNs = col('namespace') >= 0 ? col('namespace') : col('database');
    const [iName, iTemp] = [col('tableName'), col('isTemporary')];
    const out: CatalogTable[] = [];
    for (const row of tables.rows) {
      if (iTemp >= 0 && row[iTemp] === true) continue;
      const schema = String(row[iNs] ?? 'default');
      const name = String(row[iName]);
      const desc = await this.query(`DESCRIBE TABLE ${quoteSparkIdent(schema)}.${quoteSparkIdent(name)}`, signal);
      const columns = [];
      // DESCRIBE lists the columns first, then a blank row or "# Partition Information".
      for (const [c, type] of desc.rows) {
        if (typeof c !== 'string' || c === '' || c.startsWith('#')) break;
        columns.push({ name: c, type: String(type).toUpperCase() });
      }
      out.push({ schema, name, columns });
    }
    return out;
  }
}
