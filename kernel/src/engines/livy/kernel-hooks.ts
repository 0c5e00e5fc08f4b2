// What the kernel's run logic and HTTP layer call to use the Spark engines, as plain functions: the chain of steps
// for a cell (each upstream cell compiled on its own, reading its inputs by name), the wiring of session loss into
// the shared `runs` map, and the answer of `GET /api/engines/:name/sessions`.
import type { CellId, CellSnapshot } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import type * as Y from 'yjs';
import type { Engine, EngineProgress, ExecuteOutcome, TargetSpec } from '../engine.ts';
import { quoteSparkIdent } from './spark-code.ts';
import type { EngineSessionsResponse, SessionLostEvent, SparkCellEngine, SparkStep } from './spark-types.ts';
import { isSparkCellEngine } from './spark-types.ts';
import { markSessionLossStale } from './staleness.ts';

export interface SparkChainInput {
  cells: CellSnapshot[];
  /** Direct upstream cells of each cell (the kernel's GraphInfo.parents). */
  parents: Map<CellId, CellId[]>;
  /** A topological order of the cells (GraphInfo.order). */
  order: CellId[];
  cellId: CellId;
  /** Input hash of each cell (the kernel's, for the engine's dialect). */
  hashes: Map<CellId, string>;
  /**
   * Spark SQL of one non-PySpark cell with each upstream cell read through `relationFor` (the kernel passes its
   * compiler's compile(cells, id, 'databricks', { relationFor, resolveFile }).sql).
   */
  compileOwn(cellId: CellId, relationFor: (upstream: CellId) => string): string;
}

/**
 * The chain for running `cellId` on a Spark engine: the cell and every cell upstream of it, in topological order,
 * each as its own step. SQL steps read their inputs as the temp views named after the upstream cells; PySpark steps
 * get them bound as DataFrames.
 */
export function sparkChainSteps(input: SparkChainInput): SparkStep[] {
  const byId = new Map(input.cells.map((c) => [c.id, c]));
  const needed = new Set<CellId>([input.cellId]);
  const stack = [input.cellId];
  while (stack.length) {
    const id = stack.pop()!;
    for (const p of input.parents.get(id) ?? []) {
      if (!needed.has(p)) {
        needed.add(p);
        stack.push(p);
      }
    }
  }
  const nameOf = (id: CellId) => {
    const c = byId.get(id);
    if (!c) throw new PipebookError('unknown_reference', `Cell ${id} does not exist.`, { cellId: input.cellId });
    return c.name;
  };
  const steps: SparkStep[] = [];
  for (const id of input.order) {
    if (!needed.has(id)) continue;
    const cell = byId.get(id)!;
    if (cell.kind === 'markdown') continue;
    if (cell.kind === 'target') {
      throw new PipebookError('bad_request', `${cell.name} is a target cell: run it with runSparkCell.`, {
        cellId: id,
      });
    }
    const kind = cell.kind === 'pyspark' ? 'pyspark' : 'sql';
    const code = kind === 'pyspark' ? cell.source : input.compileOwn(id, (u) => quoteSparkIdent(nameOf(u)));
    const inputHash = input.hashes.get(id);
    steps.push({
      cellId: id,
      name: cell.name,
      kind,
      code,
      ...(kind === 'sql' ? { sourceLineOffset: ownTextLineOffset(code, cell) } : {}),
      ...(inputHash !== undefined ? { inputHash } : {}),
      inputs: (input.parents.get(id) ?? []).map(nameOf),
    });
  }
  if (steps.at(-1)?.cellId !== input.cellId) {
    throw new PipebookError('bad_request', 'The cell is not in the notebook graph (is it part of a cycle?).', {
      cellId: input.cellId,
    });
  }
  return steps;
}

/**
 * Where a SQL cell's own text starts in its compiled SQL (the compiler puts CTEs for the inputs in front of it), in
 * lines; null for generated SQL (visual steps, sources), which has no line of the cell's text to point at.
 */
export function ownTextLineOffset(compiled: string, cell: CellSnapshot): number | null {
  if (cell.kind !== 'sql') return null;
  const own = cell.source.replace(/[\s;]+$/u, '');
  const at = own ? compiled.lastIndexOf(own) : -1;
  if (at < 0 || (at > 0 && compiled[at - 1] !== '\n')) return null;
  return compiled.slice(0, at).split('\n').length - 1;
}

export interface SparkCellRunInput extends SparkChainInput {
  notebookId: string;
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  /** For a target cell: where it writes (Spark engines write tables). */
  target?: TargetSpec;
}

export type SparkCellResult = { type: 'result'; outcome: ExecuteOutcome } | { type: 'target'; rowCount: number };

/**
 * Runs one cell on a Spark engine the way the run logic needs it: a relation cell (SQL, visual step, source, PySpark)
 * gives a result to store; a target cell writes its table from its input's view in the notebook's session.
 */
export async function runSparkCell(engine: SparkCellEngine, input: SparkCellRunInput): Promise<SparkCellResult> {
  const cell = input.cells.find((c) => c.id === input.cellId);
  const { notebookId, signal, onProgress } = input;
  if (cell?.kind === 'target') {
    const from = (cell.config as { input?: CellId }).input;
    if (!from)
      throw new PipebookError('invalid_config', `${cell.name}: choose the cell to write.`, { cellId: cell.id });
    if (!input.target) throw new PipebookError('bad_request', `${cell.name}: no target given.`, { cellId: cell.id });
    const steps = sparkChainSteps({ ...input, cellId: from });
    const out = await engine.writeCells({ notebookId, steps, signal, onProgress }, input.target);
    return { type: 'target', rowCount: out.rowCount };
  }
  const steps = sparkChainSteps(input);
  return { type: 'result', outcome: await engine.runCells({ notebookId, steps, signal, onProgress }) };
}

/**
 * Marks the cells of every lost session stale in their notebook. Returns an unsubscribe function. The kernel calls
 * this once per engine: `for (const e of engines) wireSessionLossStaleness(e, openNotebook)`.
 */
export function wireSessionLossStaleness(
  engine: Engine,
  openNotebook: (notebookId: string) => Promise<{ doc: Y.Doc; release: () => void }>,
  onError: (e: unknown, event: SessionLostEvent) => void = () => {},
): () => void {
  if (!isSparkCellEngine(engine)) return () => {};
  return engine.onSessionLost((event) => {
    if (event.cellIds.length === 0 || event.notebookId === '') return;
    void openNotebook(event.notebookId).then(
      ({ doc, release }) => {
        try {
          markSessionLossStale(doc, event);
        } finally {
          release();
        }
      },
      (e) => onError(e, event),
    );
  });
}

/**
 * Frees a notebook's Spark sessions on every Spark engine, once the kernel has dropped its replica of the notebook
 * (nobody runs anything there any more); without this they would live until the kernel shuts down or the remote side
 * expires them, holding cluster resources. Each engine's failure is reported on its own and does not stop the others.
 */
export async function releaseNotebookSessions(
  engines: Iterable<Engine>,
  notebookId: string,
  onError: (e: unknown, engine: Engine) => void = () => {},
): Promise<void> {
  const jobs: Promise<void>[] = [];
  for (const engine of engines) {
    if (!isSparkCellEngine(engine)) continue;
    jobs.push(
      Promise.resolve()
        .then(() => engine.releaseNotebook(notebookId))
        .catch((e) => onError(e, engine)),
    );
  }
  await Promise.all(jobs);
}

/** `GET /api/engines/:name/sessions`: Spark engines list their sessions; other engines have none. */
export async function engineSessions(engine: Engine): Promise<EngineSessionsResponse> {
  if (isSparkCellEngine(engine)) return engine.sessions();
  return { engine: engine.info.name, type: engine.info.type, sessions: [] };
}
