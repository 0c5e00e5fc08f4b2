// Run planning: which cells a run touches, in which order, which of them really compute and which keep a fresh
// result. Pure: everything it needs comes in as arguments, so the rules in kernel/SPEC.md are tested here directly.
import { type CellId, type CellKind, type CellSnapshot, PipebookError, type RunSummary } from '@pipebook/shared';
import type { CellAction, RunScope } from '@pipebook/shared/protocol/kernel';
import type { GraphInfo } from './compiler.ts';

export interface PlanStep {
  cellId: CellId;
  name: string;
  kind: CellKind;
  engine: string;
  inputHash: string;
  action: CellAction;
  /** Cells of this plan (action `run`) that must finish before this one starts. */
  deps: CellId[];
}

export interface PlanInput {
  cells: CellSnapshot[];
  graph: GraphInfo;
  /** Input hash of each cell for its engine's dialect. */
  hashes: Map<CellId, string>;
  scope: RunScope;
  cellId?: CellId;
  force: boolean;
  defaultEngine: string;
  knownEngine: (name: string) => boolean;
  lastRuns: Record<string, RunSummary | undefined>;
  /**
   * Whether the cell's output is still current for this input hash: its materialised result is in the result store
   * (and read the same files), or for a target, what it wrote came from the same inputs.
   */
  hasResult: (cellId: CellId, inputHash: string) => boolean;
  /** Extra check of every cell the run needs (e.g. file paths); throws to refuse the run. */
  checkCell?: (cell: CellSnapshot) => void;
}

/** Kinds the kernel executes (markdown is text; everything else reads or writes data). */
export function runnable(kind: CellKind): boolean {
  return kind !== 'markdown';
}

function closure(start: CellId[], next: (id: CellId) => CellId[]): Set<CellId> {
  const seen = new Set<CellId>();
  const stack = [...start];
  while (stack.length) {
    const id = stack.pop()!;
    for (const n of next(id)) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return seen;
}

export function childrenOf(graph: GraphInfo): Map<CellId, CellId[]> {
  const children = new Map<CellId, CellId[]>();
  for (const [child, parents] of graph.parents) {
    for (const p of parents) {
      const list = children.get(p);
      if (list) list.push(child);
      else children.set(p, [child]);
    }
  }
  return children;
}

export function planRun(input: PlanInput): PlanStep[] {
  const { cells, graph } = input;
  const byId = new Map(cells.map((c) => [c.id, c]));
  const parents = (id: CellId) => graph.parents.get(id) ?? [];
  const children = childrenOf(graph);

  let selected: CellId[];
  if (input.scope === 'all') {
    selected = cells.map((c) => c.id);
  } else {
    const id = input.cellId;
    if (!id || !byId.has(id)) {
      throw new PipebookError('not_found', `Cell ${id ?? '(none)'} does not exist (it may have been deleted).`);
    }
    if (!runnable(byId.get(id)!.kind)) {
      throw new PipebookError('bad_request', 'A Markdown cell has nothing to run.', { cellId: id });
    }
    selected = [id];
    if (input.scope === 'upstream') selected.push(...closure([id], parents));
    if (input.scope === 'downstream') selected.push(...closure([id], (x) => children.get(x) ?? []));
  }
  const chosen = new Set(selected.filter((id) => byId.has(id) && runnable(byId.get(id)!.kind)));

  // [R3] Refuse before anything runs: every chosen cell and everything it reads must be well formed.
  const needed = new Set([...chosen, ...closure([...chosen], parents)]);
  for (const c of cells) {
    if (!needed.has(c.id)) continue;
    const err = graph.errors.get(c.id);
    if (err) {
      throw new PipebookError(err.code as PipebookError['code'], `${c.name}: ${err.message}`, {
        cellId: c.id,
        line: err.line,
        column: err.column,
      });
    }
  }
  for (const id of needed) {
    const c = byId.get(id);
    if (!c) continue;
    input.checkCell?.(c);
    const engine = c.engine ?? input.defaultEngine;
    if (!input.knownEngine(engine)) {
      throw new PipebookError('engine_unavailable', `${c.name}: no engine named "${engine}" is configured.`, {
        cellId: id,
      });
    }
  }

  const topo = graph.order.filter((id) => chosen.has(id));
  const steps: PlanStep[] = [];
  const running = new Set<CellId>();
  for (const id of topo) {
    const c = byId.get(id)!;
    const hash = input.hashes.get(id) ?? '';
    const last = input.lastRuns[id];
    // [R5] An unchanged cell keeps its result: same input hash as its last successful run, and its output is still
    // current.
    const fresh =
      !input.force && last?.status === 'done' && last.inputHash === hash && hash !== '' && input.hasResult(id, hash);
    const action: CellAction = fresh ? 'reuse' : 'run';
    const deps = [...closure([id], parents)].filter((p) => running.has(p));
    if (action === 'run') running.add(id);
    steps.push({
      cellId: id,
      name: c.name,
      kind: c.kind,
      engine: c.engine ?? input.defaultEngine,
      inputHash: hash,
      action,
      deps,
    });
  }
  return steps;
}
