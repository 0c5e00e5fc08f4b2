// Binds the run logic to the notebook compiler in shared/ (graph, compile, source map, input hashes). A run compiles
// many cells of one snapshot: the graph, the input hashes and each cell's own SQL are computed once per snapshot and
// dialect (cached by the snapshot array's identity), so running a whole notebook costs about one pass over its text
// instead of one per cell.
import type { CellId, CellSnapshot } from '@pipebook/shared';
import {
  createCompiler,
  type CompileOptions as SharedCompileOptions,
  type NotebookCompiler as SharedNotebookCompiler,
} from '@pipebook/shared/compile/compile';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { inputHashes } from '@pipebook/shared/compile/hash';
import { mapPosition, type SourceMap } from '@pipebook/shared/compile/source-map';
import { buildGraph, type NotebookGraph } from '@pipebook/shared/graph/dag';
import type { CompileOptions, GraphInfo, NotebookCompiler } from './compiler.ts';

interface SnapshotCompiler {
  graph: NotebookGraph;
  info?: GraphInfo;
  hashes?: Map<CellId, string>;
  compiler?: SharedNotebookCompiler;
  /** The options of the compile call in progress (compiling is synchronous, so one slot is enough). */
  current?: CompileOptions;
}

const snapshots = new WeakMap<readonly CellSnapshot[], Map<Dialect, SnapshotCompiler>>();

function forSnapshot(cells: readonly CellSnapshot[], dialect: Dialect): SnapshotCompiler {
  let byDialect = snapshots.get(cells);
  if (!byDialect) {
    byDialect = new Map();
    snapshots.set(cells, byDialect);
  }
  let s = byDialect.get(dialect);
  if (!s) {
    s = { graph: buildGraph(cells, dialect) };
    byDialect.set(dialect, s);
  }
  return s;
}

export const sharedCompiler: NotebookCompiler = {
  graph(cells, dialect) {
    const s = forSnapshot(cells, dialect);
    if (!s.info) {
      const errors: GraphInfo['errors'] = new Map();
      for (const [id, errs] of s.graph.errors) {
        const e = errs[0];
        if (e) errors.set(id, { code: e.code, message: e.message, line: e.line, column: e.column });
      }
      s.info = { order: s.graph.order, parents: s.graph.upstream, errors };
    }
    return s.info;
  },
  compile(cells, cellId, dialect, options) {
    const s = forSnapshot(cells, dialect);
    if (!s.compiler) {
      const shared: SharedCompileOptions = {
        graph: s.graph,
        resolveFile: (path, format) => s.current!.resolveFile(path, format),
        relationFor: (id: CellId) => s.current!.relationFor(id),
      };
      s.compiler = createCompiler(cells, dialect, shared);
    }
    s.current = options;
    try {
      const out = s.compiler.compile(cellId);
      return { sql: out.sql, sourceMap: out.sourceMap, chain: out.chain };
    } finally {
      s.current = undefined;
    }
  },
  mapPosition(map, line, column) {
    const at = mapPosition(map as SourceMap, line, column);
    if (!at) return undefined;
    // Generated SQL (visual steps, sources) has no line of the cell's own text to point at: name the cell only.
    return at.generated ? { cellId: at.cellId } : { cellId: at.cellId, line: at.line, column: at.column };
  },
  inputHashes(cells, dialect) {
    const s = forSnapshot(cells, dialect);
    s.hashes ??= inputHashes(cells, dialect, { graph: s.graph });
    return s.hashes;
  },
};
