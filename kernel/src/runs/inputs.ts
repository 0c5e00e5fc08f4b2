// What a run reads outside the notebook: target destinations, file paths (checked before anything runs) and the
// state of the data files a cell depends on.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { type CellId, type CellSnapshot, PipebookError, type TargetConfig } from '@pipebook/shared';
import { resolveDataPath } from '../data/paths.ts';
import type { TargetSpec } from '../engines/engine.ts';
import { toPipebookError } from './run.ts';

export function targetSpec(cell: CellSnapshot, dataDir: string): TargetSpec {
  const c = cell.config as unknown as TargetConfig;
  if (c.type === 'table') {
    if (!c.table) throw new PipebookError('invalid_config', `${cell.name}: choose a table to write to.`);
    return { type: 'table', table: c.table, ...(c.schema ? { schema: c.schema } : {}), mode: c.mode ?? 'replace' };
  }
  if (c.type === 'file') {
    return { type: 'file', path: resolveDataPath(dataDir, c.path ?? '', { mustExist: false }), format: c.format };
  }
  throw new PipebookError('invalid_config', `${cell.name}: a target writes a table or a file.`);
}

export function checkFilePaths(cell: CellSnapshot, dataDir: string): void {
  const c = cell.config as { type?: string; path?: string };
  if (c.type !== 'file') return;
  try {
    if (cell.kind === 'source') resolveDataPath(dataDir, String(c.path ?? ''), { mustExist: true });
    else if (cell.kind === 'target') resolveDataPath(dataDir, String(c.path ?? ''), { mustExist: false });
  } catch (e) {
    const err = toPipebookError(e);
    throw new PipebookError(err.code, `${cell.name}: ${err.message}`, { cellId: cell.id });
  }
}

/**
 * [R5] Input hashes cover a file source's path, not its bytes: this adds each data file's size and modification time,
 * for the cell and everything it reads, so a replaced file makes its readers recompute.
 */
export function filesStamps(
  cells: CellSnapshot[],
  parents: Map<CellId, CellId[]>,
  dataDir: string,
): (cellId: CellId) => string {
  const byId = new Map(cells.map((c) => [c.id, c]));
  const memo = new Map<CellId, string>();
  const own = (c: CellSnapshot): string => {
    const cfg = c.config as { type?: string; path?: string };
    if (c.kind !== 'source' || cfg.type !== 'file') return '';
    try {
      const st = statSync(resolveDataPath(dataDir, String(cfg.path ?? ''), { mustExist: true }));
      return `${cfg.path}@${st.size}:${st.mtimeMs}`;
    } catch {
      return `${cfg.path}@missing`;
    }
  };
  const stamp = (id: CellId, seen: Set<CellId>): string => {
    const hit = memo.get(id);
    if (hit !== undefined) return hit;
    const c = byId.get(id);
    if (!c || seen.has(id)) return '';
    seen.add(id);
    const parts = [own(c), ...(parents.get(id) ?? []).map((p) => stamp(p, seen))].filter(Boolean);
    const out = parts.length ? createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16) : '';
    memo.set(id, out);
    return out;
  };
  return (id) => stamp(id, new Set());
}
