// Verification compiles proposals with the same shared compiler the runs use (graph errors from buildGraph, one
// statement per cell from compileCell), with file sources resolved inside the data folder as the kernel does.
import { type CellId, type CellSnapshot, PipebookError } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { buildGraph } from '@pipebook/shared/graph/dag';
import { resolveDataPath } from '../data/paths.ts';
import type { CopilotCompiler } from './verify.ts';

export function createCopilotCompiler(opts: { dataDir?: string } = {}): CopilotCompiler {
  const resolveFile = (p: string) => {
    if (!opts.dataDir) throw new PipebookError('path_outside_data', 'File sources need a data folder.');
    return resolveDataPath(opts.dataDir, p, { mustExist: true });
  };
  return {
    graphErrors(cells: CellSnapshot[], dialect: Dialect) {
      const out = new Map<string, { code: string; message: string }>();
      for (const [id, errs] of buildGraph(cells, dialect).errors) {
        if (errs[0]) out.set(id, { code: errs[0].code, message: errs[0].message });
      }
      return out;
    },
    compile(cells: CellSnapshot[], cellId: CellId, dialect: Dialect) {
      const out = compileCell(cells, cellId, dialect, { resolveFile });
      return { sql: out.sql, chain: out.chain };
    },
  };
}

/** For callers without a data folder (tests, the evaluation script over tables only). */
export const copilotCompiler: CopilotCompiler = createCopilotCompiler();
