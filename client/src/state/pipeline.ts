// The notebook as a pipeline, derived from settled cell snapshots: edges for the DAG view, per-cell graph errors,
// input hashes (to mark stale results, computed exactly as the kernel does) and the SQL a visual step compiles to.
// The graph and compiler live in shared/ so the browser and the kernel agree on them; this only adapts them.
import type { CellId, CellSnapshot } from '@pipebook/shared';
import { createCompiler } from '@pipebook/shared/compile/compile';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { inputHashes } from '@pipebook/shared/compile/hash';
import { buildGraph, type NotebookGraph } from '@pipebook/shared/graph/dag';

export interface PipelineEdge {
  from: string;
  to: string;
}

export interface PipelineView {
  edges: PipelineEdge[];
  /** The first graph error (cycle, unknown reference, duplicate name, bad config) by cell id. */
  errors: Record<string, { code: string; message: string; line?: number; column?: number }>;
  /** Current input hash per cell id, in the kernel's form `<engine>:<hash>`, for cells on a known engine. */
  hashes: Map<string, string>;
  /** Cell ids this cell reads from directly. */
  inputsOf(id: string): string[];
  /** The SQL the cell compiles to in its engine's dialect, or why it cannot compile. */
  compile(id: string): { sql: string } | { error: string };
}

export interface EngineLookup {
  /** The dialect of a configured engine, or undefined for an engine the kernel does not have. */
  dialectOf(engine: string): Dialect | undefined;
  defaultEngine: string;
}

/**
 * Input hashes as the kernel writes them into run summaries: each cell hashed for the dialect of the engine it runs
 * on, prefixed with that engine's name (kernel/src/runs/service.ts hashesFor).
 */
export function kernelInputHashes(cells: CellSnapshot[], engines: EngineLookup): Map<string, string> {
  const byDialect = new Map<Dialect, Map<CellId, string>>();
  const out = new Map<string, string>();
  for (const c of cells) {
    const name = c.engine ?? engines.defaultEngine;
    const dialect = engines.dialectOf(name);
    if (!dialect) continue;
    let hashes = byDialect.get(dialect);
    if (!hashes) {
      hashes = inputHashes(cells, dialect);
      byDialect.set(dialect, hashes);
    }
    const h = hashes.get(c.id);
    if (h !== undefined) out.set(c.id, `${name}:${h}`);
  }
  return out;
}

export function pipelineOf(cells: CellSnapshot[], engines: EngineLookup): PipelineView {
  const graphs = new Map<Dialect, NotebookGraph>();
  const graphFor = (d: Dialect) => {
    let g = graphs.get(d);
    if (!g) {
      g = buildGraph(cells, d);
      graphs.set(d, g);
    }
    return g;
  };
  const defaultDialect = engines.dialectOf(engines.defaultEngine) ?? 'duckdb';
  const graph = graphFor(defaultDialect);
  const edges: PipelineEdge[] = [];
  for (const [to, ups] of graph.upstream) for (const from of ups) edges.push({ from, to });
  const errors: PipelineView['errors'] = {};
  for (const [id, errs] of graph.errors) {
    const e = errs[0];
    if (e) errors[id] = { code: e.code, message: e.message, line: e.line, column: e.column };
  }
  let hashes: Map<string, string> | undefined;
  const byId = new Map(cells.map((c) => [c.id as string, c]));
  return {
    edges,
    errors,
    get hashes() {
      hashes ??= kernelInputHashes(cells, engines);
      return hashes;
    },
    inputsOf: (id) => graph.upstream.get(id as CellId) ?? [],
    compile(id) {
      const cell = byId.get(id);
      if (!cell) return { error: 'This cell no longer exists.' };
      const dialect = engines.dialectOf(cell.engine ?? engines.defaultEngine) ?? defaultDialect;
      try {
        const compiler = createCompiler(cells, dialect, {
          graph: graphFor(dialect),
          // The browser shows the statement; only the kernel resolves and checks real file paths.
          resolveFile: (path) => path,
        });
        return { sql: compiler.compile(id as CellId).sql };
      } catch (e) {
        return { error: (e as Error).message };
      }
    },
  };
}
