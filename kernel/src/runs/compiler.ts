// What the run logic needs from the notebook compiler in shared/ (graph, compile, source map, input hashes), as one
// small interface: the planner and executor depend on this, and the binding below adapts the shared functions.
import type { CellId, CellSnapshot, ErrorBody, FileFormat } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';

export interface GraphInfo {
  /** Every cell that has a place in a topological order (cells in a cycle are absent). */
  order: CellId[];
  /** Direct upstream cells of each cell. */
  parents: Map<CellId, CellId[]>;
  /** Per-cell graph errors (cycle, unknown_reference, duplicate_name). */
  errors: Map<CellId, ErrorBody>;
}

export interface CompileOptions {
  /** Absolute, checked path for a file source; throws PipebookError('path_outside_data'). */
  resolveFile(path: string, format: FileFormat): string;
  /** A relation (e.g. `read_parquet('...')`) holding an upstream cell's fresh materialised result. */
  relationFor(cellId: CellId): string | undefined;
}

export interface CompiledCell {
  sql: string;
  sourceMap: unknown;
  chain: CellId[];
}

export interface NotebookCompiler {
  graph(cells: CellSnapshot[], dialect: Dialect): GraphInfo;
  compile(cells: CellSnapshot[], cellId: CellId, dialect: Dialect, options: CompileOptions): CompiledCell;
  /** Maps a 1-based line/column of compiled SQL to the cell and, for SQL the user wrote, its own line/column. */
  mapPosition(
    sourceMap: unknown,
    line: number,
    column: number,
  ): { cellId: CellId; line?: number; column?: number } | undefined;
  inputHashes(cells: CellSnapshot[], dialect: Dialect): Map<CellId, string>;
}
