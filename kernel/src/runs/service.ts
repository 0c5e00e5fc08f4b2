// Runs: plan a notebook run from the live document, write each cell's status into the shared `runs` map as it
// moves (queued, running, done/error/cancelled/blocked), execute ready cells through the queue on their engine,
// materialise results, and stream events. Rules are numbered in kernel/SPEC.md and cited as [Rn].
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  type CellId,
  type CellSnapshot,
  createOrigin,
  type ErrorBody,
  PipebookError,
  RunId,
  type RunStatus,
  type RunSummary,
  type RunUser,
  readCells,
  readMeta,
  readRuns,
  setRun,
  setRuns,
} from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import type { RunCreated, RunScope } from '@pipebook/shared/protocol/kernel';
import { KERNEL_PROTOCOL_VERSION } from '@pipebook/shared/protocol/kernel';
import type * as Y from 'yjs';
import { resolveDataPath } from '../data/paths.ts';
import { type DuckDBWarehouse, sqlString } from '../engines/duckdb.ts';
import type { EngineProgress, ExecuteOutcome } from '../engines/engine.ts';
import { runSparkCell } from '../engines/livy/kernel-hooks.ts';
import { isSparkCellEngine } from '../engines/livy/spark-types.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import type { ResultStore } from '../results/store.ts';
import { writeStreamToParquet } from '../results/writer.ts';
import type { CompiledCell, NotebookCompiler } from './compiler.ts';
import { checkFilePaths, filesStamps, targetSpec } from './inputs.ts';
import { planRun } from './planner.ts';
import type { RunQueue } from './queue.ts';
import { isResolved, Run, type StepRuntime, toPipebookError } from './run.ts';

export { Run, toPipebookError };

const KERNEL_ORIGIN = createOrigin('kernel');
/** Least time between two progress writes of one cell into the shared document. */
const PROGRESS_WRITE_MS = 1000;
/** Finished runs stay queryable (status, events) this long. */
const KEEP_FINISHED_MS = 15 * 60_000;

export interface RunServiceDeps {
  openNotebook(notebookId: string): Promise<{ doc: Y.Doc; release: () => void }>;
  compiler: NotebookCompiler;
  engines: EngineRegistry;
  results: ResultStore;
  warehouse: DuckDBWarehouse;
  queue: RunQueue;
  dataDir: string;
}

export interface StartRunRequest {
  notebookId: string;
  cellId?: string;
  scope: RunScope;
  force: boolean;
}

export class RunService {
  private readonly runs = new Map<string, Run>();
  /** What each target last wrote from (input hash and files), so an unchanged target is not rewritten. */
  private readonly targetsWritten = new Map<string, string>();

  constructor(private readonly deps: RunServiceDeps) {}

  get(runId: string): Run | undefined {
    return this.runs.get(runId);
  }

  /** Cells being computed (queued or running) by some run, and the runs waiting for them [R17]. */
  private readonly computing = new Map<string, { run: Run; hash: string; waiters: Set<Run> }>();

  /** Another run is computing this step's cell with the same inputs (its status is that run's to show). */
  private computedElsewhere(run: Run, s: StepRuntime): boolean {
    const c = this.computing.get(`${run.notebookId}\u0000${s.step.cellId}`);
    return !!c && c.run !== run && c.hash === s.step.inputHash;
  }

  private releaseComputing(run: Run, s: StepRuntime): void {
    const key = `${run.notebookId}\u0000${s.step.cellId}`;
    const c = this.computing.get(key);
    if (!c || c.run !== run) return;
    this.computing.delete(key);
    for (const waiter of c.waiters) {
      // After the finishing run has scheduled its own next cells (so its readers of this cell register first).
      setImmediate(() => this.schedule(waiter));
    }
  }

  /** Whether a cell's output is current for `hash` and `stamp`: a stored result, or a target's last write. */
  private isCurrent(notebookId: string, cell: CellSnapshot | undefined, hash: string, stamp: string): boolean {
    if (!cell) return false;
    if (cell.kind === 'target') {
      const written = this.targetsWritten.get(`${notebookId}\u0000${cell.id}`);
      // After a restart there is no record: a target that reads no files depends on its input hash alone.
      return written !== undefined ? written === `${hash}|${stamp}` : stamp === '';
    }
    const e = this.deps.results.get(notebookId, cell.id);
    return !!e && e.inputHash === hash && (e.filesStamp ?? '') === stamp;
  }

  /** Input hashes of every cell, each for the dialect of the engine it runs on. */
  private hashesFor(cells: CellSnapshot[], defaultEngine: string): Map<CellId, string> {
    const byDialect = new Map<Dialect, Map<CellId, string>>();
    const out = new Map<CellId, string>();
    for (const c of cells) {
      const name = c.engine ?? defaultEngine;
      if (!this.deps.engines.has(name)) continue;
      const dialect = this.deps.engines.get(name).info.dialect;
      let hashes = byDialect.get(dialect);
      if (!hashes) {
        hashes = this.deps.compiler.inputHashes(cells, dialect);
        byDialect.set(dialect, hashes);
      }
      const h = hashes.get(c.id);
      if (h !== undefined) out.set(c.id, `${name}:${h}`);
    }
    return out;
  }

  async start(req: StartRunRequest, by: RunUser): Promise<RunCreated> {
    const { doc, release } = await this.deps.openNotebook(req.notebookId);
    let run: Run;
    try {
      const cells = readCells(doc);
      const meta = readMeta(doc);
      const defaultDialect = this.deps.engines.has(meta.defaultEngine)
        ? this.deps.engines.get(meta.defaultEngine).info.dialect
        : 'duckdb';
      const graph = this.deps.compiler.graph(cells, defaultDialect);
      const hashes = this.hashesFor(cells, meta.defaultEngine);
      const filesStamp = filesStamps(cells, graph.parents, this.deps.dataDir);
      const byId = new Map(cells.map((c) => [c.id, c]));
      const plan = planRun({
        cells,
        graph,
        hashes,
        scope: req.scope,
        cellId: req.cellId as CellId | undefined,
        force: req.force,
        defaultEngine: meta.defaultEngine,
        knownEngine: (n) => this.deps.engines.has(n),
        lastRuns: readRuns(doc),
        hasResult: (id, hash) => this.isCurrent(req.notebookId, byId.get(id), hash, filesStamp(id)),
        // [R13] A file outside the data folder refuses the whole run before anything runs.
        checkCell: (c) => checkFilePaths(c, this.deps.dataDir),
      });
      run = new Run(
        RunId.create(),
        req.notebookId,
        req.scope,
        req.cellId,
        by,
        doc,
        release,
        cells,
        hashes,
        filesStamp,
        plan,
      );
    } catch (e) {
      release();
      throw e;
    }
    this.runs.set(run.runId, run);
    const planned = [...run.steps.values()].map(({ step }) => ({
      cellId: step.cellId,
      name: step.name,
      action: step.action,
      engine: step.engine,
      inputHash: step.inputHash,
    }));
    // [R6] Every cell that will compute shows `queued` to every collaborator at once, in one transaction.
    setRuns(
      doc,
      [...run.steps.values()]
        .filter((s) => s.step.action === 'run' && !this.computedElsewhere(run, s))
        .map((s) => [s.step.cellId, this.summary(run, s, 'queued')] as [CellId, RunSummary]),
      KERNEL_ORIGIN,
    );
    run.events.emit({ type: 'run_queued', notebookId: run.notebookId, cells: planned });
    for (const s of run.steps.values()) {
      if (s.step.action === 'reuse') {
        s.state = 'reused';
        run.events.emit({ type: 'cell_finished', cellId: s.step.cellId, status: 'reused' });
      } else {
        run.events.emit({ type: 'cell_queued', cellId: s.step.cellId });
      }
    }
    this.schedule(run);
    return {
      protocolVersion: KERNEL_PROTOCOL_VERSION,
      runId: run.runId,
      notebookId: run.notebookId,
      scope: run.scope,
      cells: planned,
    };
  }

  private summary(run: Run, s: StepRuntime, status: RunStatus, extra: Partial<RunSummary> = {}): RunSummary {
    return {
      status,
      runId: run.runId,
      engine: s.step.engine,
      by: run.by,
      queuedAt: s.queuedAt,
      ...(s.startedAt ? { startedAt: s.startedAt } : {}),
      inputHash: s.step.inputHash,
      ...extra,
    };
  }

  /** Enqueues every waiting step whose dependencies are all done; blocks those with a failed dependency [R8]. */
  private schedule(run: Run): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const s of run.steps.values()) {
        if (s.state !== 'waiting') continue;
        const depStates = s.step.deps.map((d) => run.steps.get(d)!);
        const failed = depStates.find((d) => d.state === 'error' || d.state === 'blocked' || d.state === 'cancelled');
        if (failed) {
          if (failed.state === 'cancelled') this.finishStep(run, s, 'cancelled');
          else {
            const root = failed.state === 'blocked' ? (failed.error?.cellId ?? failed.step.cellId) : failed.step.cellId;
            this.finishStep(run, s, 'blocked', { blockedBy: root as CellId });
          }
          changed = true;
          continue;
        }
        if (depStates.every((d) => d.state === 'done' || d.state === 'reused')) {
          // [R17] The same cell with the same inputs is being computed by another run: wait for it, then reuse.
          const key = `${run.notebookId}\u0000${s.step.cellId}`;
          const other = this.computing.get(key);
          if (other && other.run !== run && other.hash === s.step.inputHash) {
            other.waiters.add(run);
            s.waited = true;
            continue;
          }
          const cell = run.cells.find((c) => c.id === s.step.cellId);
          if (
            !run.abort.signal.aborted &&
            s.waited &&
            this.isCurrent(run.notebookId, cell, s.step.inputHash, run.filesStamp(s.step.cellId))
          ) {
            s.state = 'reused';
            run.events.emit({ type: 'cell_finished', cellId: s.step.cellId, status: 'reused' });
            changed = true;
            continue;
          }
          this.computing.set(key, { run, hash: s.step.inputHash, waiters: new Set() });
          s.state = 'queued';
          this.deps.queue.enqueue({
            notebookId: run.notebookId,
            runId: run.runId,
            start: () => this.track(this.execute(run, s)),
            drop: () => this.finishStep(run, s, 'cancelled'),
          });
        }
      }
    }
    this.maybeFinish(run);
  }

  private finishStep(
    run: Run,
    s: StepRuntime,
    outcome: 'done' | 'error' | 'cancelled' | 'blocked',
    extra: { rowCount?: number; columns?: RunSummary['columns']; error?: ErrorBody; blockedBy?: CellId } = {},
  ): void {
    if (isResolved(s.state)) return;
    s.state = outcome;
    this.releaseComputing(run, s);
    s.rowCount = extra.rowCount;
    s.error = extra.error ?? (extra.blockedBy ? { code: 'blocked', message: '', cellId: extra.blockedBy } : undefined);
    const finishedAt = Date.now();
    const summaryExtra: Partial<RunSummary> = { finishedAt };
    if (extra.rowCount !== undefined) summaryExtra.rowCount = extra.rowCount;
    if (extra.columns) summaryExtra.columns = extra.columns;
    if (extra.error) {
      summaryExtra.error = {
        code: extra.error.code,
        message: extra.error.message,
        ...(extra.error.line !== undefined ? { line: extra.error.line, column: extra.error.column } : {}),
      };
    }
    if (extra.blockedBy) summaryExtra.blockedBy = extra.blockedBy;
    setRun(run.doc, s.step.cellId, this.summary(run, s, outcome, summaryExtra), KERNEL_ORIGIN);
    run.events.emit({
      type: 'cell_finished',
      cellId: s.step.cellId,
      status: outcome,
      ...(extra.rowCount !== undefined ? { rowCount: extra.rowCount } : {}),
      ...(extra.columns ? { columns: extra.columns } : {}),
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.blockedBy ? { blockedBy: extra.blockedBy } : {}),
      ...(s.startedAt ? { durationMs: finishedAt - s.startedAt } : {}),
    });
  }

  private maybeFinish(run: Run): void {
    if (run.finishedAt) return;
    const states = [...run.steps.values()].map((s) => s.state);
    if (!states.every(isResolved)) {
      if (states.some((s) => s === 'running')) run.state = 'running';
      return;
    }
    run.finishedAt = Date.now();
    run.state = run.abort.signal.aborted
      ? 'cancelled'
      : states.some((s) => s === 'error' || s === 'blocked')
        ? 'error'
        : states.some((s) => s === 'cancelled')
          ? 'cancelled'
          : 'done';
    run.events.emit({ type: 'run_finished', status: run.state as 'done' | 'error' | 'cancelled' });
    run.release();
    const t = setTimeout(() => this.runs.delete(run.runId), KEEP_FINISHED_MS);
    t.unref();
  }

  private async execute(run: Run, s: StepRuntime): Promise<void> {
    if (run.abort.signal.aborted) {
      this.finishStep(run, s, 'cancelled');
      this.schedule(run);
      return;
    }
    const { step } = s;
    s.state = 'running';
    s.startedAt = Date.now();
    run.state = 'running';
    setRun(run.doc, step.cellId, this.summary(run, s, 'running'), KERNEL_ORIGIN);
    run.events.emit({ type: 'cell_started', cellId: step.cellId, engine: step.engine });
    const unpins: Array<() => void> = [];
    let compiled: CompiledCell | undefined;
    try {
      const engine = this.deps.engines.get(step.engine);
      const cell = run.cells.find((c) => c.id === step.cellId)!;
      let progressWrittenAt = 0;
      const onProgress = (p: EngineProgress) => {
        const message = p.message ?? p.state;
        run.events.emit({
          type: 'cell_progress',
          cellId: step.cellId,
          ...(p.fraction !== undefined ? { fraction: p.fraction } : {}),
          ...(p.rows !== undefined ? { rows: p.rows } : {}),
          ...(message !== undefined ? { message } : {}),
        });
        // [R6] Collaborators see progress too, through the document, at most once a second per cell.
        const now = Date.now();
        if (now - progressWrittenAt < PROGRESS_WRITE_MS || isResolved(s.state)) return;
        progressWrittenAt = now;
        const progress = {
          ...(p.fraction !== undefined ? { fraction: p.fraction } : {}),
          ...(message !== undefined ? { message } : {}),
        };
        setRun(run.doc, step.cellId, this.summary(run, s, 'running', { progress }), KERNEL_ORIGIN);
      };
      const signal = run.abort.signal;
      const target = step.kind === 'target' ? targetSpec(cell, this.deps.dataDir) : undefined;
      if (target?.type === 'file') await mkdir(path.dirname(target.path), { recursive: true });
      const resolveFile = (p: string) => resolveDataPath(this.deps.dataDir, p, { mustExist: true });
      const targetWritten = (rowCount: number) => {
        this.targetsWritten.set(
          `${run.notebookId}\u0000${step.cellId}`,
          `${step.inputHash}|${run.filesStamp(step.cellId)}`,
        );
        this.finishStep(run, s, 'done', { rowCount });
      };
      if (isSparkCellEngine(engine)) {
        // Spark engines run the chain step by step in the notebook's session (temp views, PySpark cells).
        const dialect = engine.info.dialect;
        const graph = this.deps.compiler.graph(run.cells, dialect);
        const out = await runSparkCell(engine, {
          cells: run.cells,
          parents: graph.parents,
          order: graph.order,
          cellId: step.cellId,
          hashes: run.hashes,
          compileOwn: (id, relationFor) =>
            this.deps.compiler.compile(run.cells, id, dialect, { resolveFile, relationFor }).sql,
          notebookId: run.notebookId,
          signal,
          onProgress,
          ...(target ? { target } : {}),
        });
        if (out.type === 'target') targetWritten(out.rowCount);
        else await this.storeResult(run, s, out.outcome);
      } else {
        compiled = this.deps.compiler.compile(run.cells, step.cellId, engine.info.dialect, {
          resolveFile,
          // [R7] An upstream cell whose materialised result matches its current input hash is read, not recomputed.
          relationFor: (id) => {
            if (engine.info.type !== 'duckdb') return undefined;
            const e = this.deps.results.get(run.notebookId, id);
            if (!e || e.inputHash !== run.hashes.get(id) || (e.filesStamp ?? '') !== run.filesStamp(id))
              return undefined;
            unpins.push(this.deps.results.pin(e.path));
            this.deps.results.touch(e);
            return `read_parquet(${sqlString(e.path)})`;
          },
        });
        if (target) {
          if (!engine.writeTarget) {
            throw new PipebookError('bad_request', `Engine "${step.engine}" cannot write targets.`, {
              cellId: step.cellId,
            });
          }
          const out = await engine.writeTarget({ sql: compiled.sql, target, signal, onProgress });
          targetWritten(out.rowCount);
        } else {
          const resultPath = this.deps.results.allocate(run.notebookId, step.cellId, run.runId);
          const out = await engine.execute({ sql: compiled.sql, signal, onProgress, resultPath, tag: run.runId });
          await this.storeResult(run, s, out, resultPath);
        }
      }
    } catch (e) {
      this.fail(run, s, toPipebookError(e), compiled);
    } finally {
      for (const u of unpins) u();
    }
    this.schedule(run);
  }

  /** Stores a cell's result (streamed batches are written to Parquet first) and marks the cell done. */
  private async storeResult(run: Run, s: StepRuntime, out: ExecuteOutcome, allocated?: string): Promise<void> {
    const resultPath = allocated ?? this.deps.results.allocate(run.notebookId, s.step.cellId, run.runId);
    const rowCount =
      out.type === 'materialized'
        ? out.rowCount
        : await writeStreamToParquet(
            this.deps.warehouse,
            out.columns,
            out.batches,
            resultPath,
            run.abort.signal,
            (rows) => run.events.emit({ type: 'cell_progress', cellId: s.step.cellId, rows }),
          );
    this.deps.results.commit({
      notebookId: run.notebookId,
      cellId: s.step.cellId,
      runId: run.runId,
      inputHash: s.step.inputHash,
      filesStamp: run.filesStamp(s.step.cellId),
      engine: s.step.engine,
      columns: out.columns,
      rowCount,
      path: resultPath,
    });
    this.finishStep(run, s, 'done', { rowCount, columns: out.columns });
  }

  /** [R9] An error lands on the cell whose SQL caused it, at its own line and column. */
  private fail(run: Run, s: StepRuntime, err: PipebookError, compiled: CompiledCell | undefined): void {
    if (err.code === 'cancelled' || run.abort.signal.aborted) {
      this.finishStep(run, s, 'cancelled');
      return;
    }
    if (err.code === 'blocked' && err.cellId && err.cellId !== s.step.cellId) {
      // The compiler needs an input that has no result yet (e.g. a PySpark cell that must run first).
      this.finishStep(run, s, 'blocked', { blockedBy: err.cellId as CellId });
      return;
    }
    let body: ErrorBody = { code: err.code, message: err.message, cellId: err.cellId ?? s.step.cellId };
    if (err.line !== undefined && compiled && err.cellId === undefined) {
      const at = this.deps.compiler.mapPosition(compiled.sourceMap, err.line, err.column ?? 1);
      if (at) body = { code: body.code, message: body.message, cellId: at.cellId, line: at.line, column: at.column };
    } else if (err.line !== undefined) {
      body = { ...body, line: err.line, column: err.column };
    }
    if (body.cellId === s.step.cellId) {
      this.finishStep(run, s, 'error', { error: body });
      return;
    }
    // The failing SQL belongs to an upstream cell compiled into this statement: that cell shows the error, this one
    // is blocked by it.
    const culprit = body.cellId as CellId;
    setRun(
      run.doc,
      culprit,
      {
        status: 'error',
        runId: run.runId,
        engine: s.step.engine,
        by: run.by,
        finishedAt: Date.now(),
        inputHash: run.hashes.get(culprit) ?? '',
        error: {
          code: body.code,
          message: body.message,
          ...(body.line !== undefined ? { line: body.line, column: body.column } : {}),
        },
      },
      KERNEL_ORIGIN,
    );
    run.events.emit({ type: 'cell_finished', cellId: culprit, status: 'error', error: body });
    this.finishStep(run, s, 'blocked', { blockedBy: culprit });
  }

  /** [R10] Cancels a run: waiting cells are cancelled at once, running queries are interrupted. */
  cancel(runId: string): Run {
    const run = this.runs.get(runId);
    if (!run) throw new PipebookError('not_found', `Run ${runId} does not exist (finished runs are kept 15 minutes).`);
    if (run.finishedAt) return run;
    run.abort.abort();
    this.deps.queue.cancelRun(runId);
    for (const s of run.steps.values()) if (s.state === 'waiting') this.finishStep(run, s, 'cancelled');
    this.maybeFinish(run);
    return run;
  }

  /** Cell executions in flight, so shutdown can wait for interrupted queries to let go of the warehouse. */
  private readonly inFlight = new Set<Promise<void>>();
  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /**
   * Statuses left `queued` or `running` by runs this kernel does not know (it stopped or crashed during them) would
   * spin forever in everyone's notebook: they become `cancelled`, saying why. Called when a replica first syncs.
   */
  sweepOrphans(doc: Y.Doc): void {
    const known = new Set(this.runs.keys());
    const orphans: Array<[CellId, RunSummary]> = [];
    for (const [id, r] of Object.entries(readRuns(doc))) {
      if ((r.status === 'queued' || r.status === 'running') && !known.has(r.runId)) {
        orphans.push([
          id as CellId,
          {
            ...r,
            status: 'cancelled',
            finishedAt: Date.now(),
            error: { code: 'cancelled', message: 'The kernel stopped while this cell was waiting or running.' },
          },
        ]);
      }
    }
    if (orphans.length) setRuns(doc, orphans, KERNEL_ORIGIN);
  }

  async close(): Promise<void> {
    for (const run of this.runs.values()) if (!run.finishedAt) this.cancel(run.runId);
    const settled = Promise.allSettled([...this.inFlight]);
    await Promise.race([settled, new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}
