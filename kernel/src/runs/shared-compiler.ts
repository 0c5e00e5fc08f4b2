// Binds the run logic to the notebook compiler in shared/ (graph, compile, source map, input hashes).
import type { CellId } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import { inputHashes } from '@pipebook/shared/compile/hash';
import { mapPosition, type SourceMap } from '@pipebook/shared/compile/source-map';
import { buildGraph } from '@pipebook/shared/graph/dag';
import type { GraphInfo, NotebookCompiler } from './compiler.ts';

export const sharedCompiler: NotebookCompiler = {
  graph(cells, dialect) {
    const g = buildGraph(cells, dialect);
    const errors: GraphInfo['errors'] = new Map();
    for (const [id, errs] of g.errors) {
      const e = errs[0];
      if (e) errors.set(id, { code: e.code, message: e.message, line: e.line, column: e.column });
    }
    return { order: g.order, parents: g.upstream, errors };
  },
  compile(cells, cellId, dialect, options) {
    const out = compileCell(cells, cellId, dialect, {
      resolveFile: (path, format) => options.resolveFile(path, format),
      relationFor: (id: CellId) => options.relationFor(id),
    });
    return { sql: out.sql, sourceMap: out.sourceMap, chain: out.chain };
  },
  mapPosition(map, line, column) {
    const at = mapPosition(map as SourceMap, line, column);
    if (!at) return undefined;
    // Generated SQL (visual steps, sources) has no line of the cell's own text to point at: name the cell only.
    return at.generated ? { cellId: at.cellId } : { cellId: at.cellId, line: at.line, column: at.column };
  },
  inputHashes: (cells, dialect) => inputHashes(cells, dialect),
};
