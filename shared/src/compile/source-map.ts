// Which lines of a compiled statement came from which cell, so an engine error at compiled line L can be shown on the
// right cell, at the right line of that cell's own text.
import type { CellId } from '../ids.ts';

export interface SourceMapSegment {
  cellId: CellId;
  /** 1-based compiled lines, both inclusive. */
  startLine: number;
  endLine: number;
  /**
   * Line of the cell's own source shown at `startLine` (columns are unchanged) for SQL the user wrote; absent for SQL
   * Pipebook generated (CTE headers, visual steps, sources).
   */
  cellLine?: number;
}

export interface SourceMap {
  /** Number of lines of the compiled SQL. */
  lineCount: number;
  /**
   * In line order, not overlapping, one per cell's SQL. The CTE header and closing lines around a segment belong to
   * its cell (see mapPosition); the opening `WITH` belongs to no cell.
   */
  segments: SourceMapSegment[];
}

export interface MappedPosition {
  cellId: CellId;
  /**
   * For user SQL (`generated: false`), the 1-based line and column in the cell's own source. For generated SQL, the
   * position inside the SQL generated for that cell; show the cell, not a line of its text.
   */
  line: number;
  column: number;
  generated: boolean;
}

/**
 * The cell (and its own line/column) at a 1-based position of the compiled SQL, or undefined outside every cell. A
 * line just before a segment (a CTE's `"name" AS (`) or just after one (its `)` or `),`) belongs to that cell, as
 * generated SQL.
 */
export function mapPosition(map: SourceMap, line: number, column: number): MappedPosition | undefined {
  const segs = map.segments;
  if (line < 1 || line > map.lineCount) return undefined;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid];
    if (line < s.startLine) hi = mid - 1;
    else if (line > s.endLine) lo = mid + 1;
    else {
      const generated = s.cellLine === undefined;
      return {
        cellId: s.cellId,
        line: (generated ? 1 : s.cellLine!) + (line - s.startLine),
        column,
        generated,
      };
    }
  }
  // `lo` is the first segment after the line
  const before = segs[lo - 1];
  const after = segs[lo];
  if (before && line === before.endLine + 1) return { cellId: before.cellId, line: 1, column, generated: true };
  if (after && line === after.startLine - 1) return { cellId: after.cellId, line: 1, column, generated: true };
  return undefined;
}

/** The same map for the SQL placed `by` lines further down (e.g. inside a target statement). */
export function shiftSourceMap(map: SourceMap, by: number, extraLines = by): SourceMap {
  return {
    lineCount: map.lineCount + extraLines,
    segments: map.segments.map((s) => ({ ...s, startLine: s.startLine + by, endLine: s.endLine + by })),
  };
}

/**
 * The 1-based line/column a DuckDB error points at, read from its `LINE n: <text>` line and the caret under it.
 * DuckDB may trim a long line on the left, in which case the column is the caret's place in the shown text.
 */
export function duckdbErrorPosition(message: string): { line: number; column: number } | undefined {
  const m = /\n(LINE (\d+): )(.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  const column = m[4].length - m[1].length + 1;
  return { line: Number(m[2]), column: Math.max(1, column) };
}
