// The notebook as a pipeline, derived from settled cell snapshots: edges for the DAG view, per-cell graph errors,
// input hashes (to mark stale results) and the SQL a visual step compiles to. The graph and compiler themselves live
// in shared/ so the browser and the kernel agree on them; this module only adapts them for the page.
import type { CellSnapshot } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';

export interface PipelineEdge {
  from: string;
  to: string;
}

export interface PipelineView {
  edges: PipelineEdge[];
  /** Graph errors (cycle, unknown reference, duplicate name) by cell id. */
  errors: Record<string, { code: string; message: string }>;
  /** Current input hash per cell id, when the compiler can compute one. */
  hashes: Map<string, string>;
  /** Cell ids this cell reads from directly. */
  inputsOf(id: string): string[];
  /** The SQL the cell compiles to in its engine's dialect, or why it cannot compile. */
  compile(id: string): { sql: string } | { error: string };
}

/** Inputs a visual step or target names in its config (by cell id). */
export function configInputs(cell: CellSnapshot): string[] {
  const c = cell.config as Record<string, unknown>;
  const out: string[] = [];
  for (const key of ['input', 'left', 'right']) if (typeof c[key] === 'string') out.push(c[key] as string);
  if (Array.isArray(c.inputs)) for (const x of c.inputs) if (typeof x === 'string') out.push(x);
  return out;
}

export function pipelineOf(
  cells: CellSnapshot[],
  dialectOf: (engine: string) => Dialect,
  defaultEngine: string,
): PipelineView {
  void dialectOf;
  void defaultEngine;
  const ids = new Set(cells.map((c) => c.id as string));
  const edges: PipelineEdge[] = [];
  const inputs = new Map<string, string[]>();
  for (const c of cells) {
    const ins = configInputs(c).filter((x) => ids.has(x));
    inputs.set(c.id, ins);
    for (const i of ins) edges.push({ from: i, to: c.id });
  }
  return {
    edges,
    errors: {},
    hashes: new Map(),
    inputsOf: (id) => inputs.get(id) ?? [],
    compile: () => ({ error: 'The compiler is not available yet.' }),
  };
}
