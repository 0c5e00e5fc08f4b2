// Per-cell differences between two notebook states, matched by cell id (so a rename is a rename, not a delete and
// an add). The text compared for a cell is exactly its file in the Git layout.
import type { CellKind, CellSnapshot, NotebookState } from '@pipebook/shared';
import { cellFile, sortKeys } from './layout.ts';
import { unifiedDiff } from './line-diff.ts';
import { assignStems } from './names.ts';

export type CellChangeStatus = 'added' | 'removed' | 'renamed' | 'changed';

export interface CellChange {
  id: string;
  status: CellChangeStatus;
  name: string;
  /** Set when the name differs (status `renamed`, or `changed` never; a renamed cell may also carry a diff). */
  previousName?: string;
  kind: CellKind;
  previousKind?: CellKind;
  /** Engine override change, when any. */
  engine?: { from?: string; to?: string };
  /** Unified diff of the cell's file (source, or config as YAML); empty when only the name/kind/engine changed. */
  diff: string;
}

export interface NotebookDiff {
  title?: { from: string; to: string };
  defaultEngine?: { from: string; to: string };
  /** True when the cells kept in both states appear in a different relative order. */
  orderChanged: boolean;
  cells: CellChange[];
}

/** Identity of a cell's content, independent of config key order. */
export function cellContentKey(c: CellSnapshot): string {
  return JSON.stringify([c.name, c.kind, c.engine ?? null, c.source, sortKeys(c.config)]);
}

export function diffStates(from: NotebookState, to: NotebookState): NotebookDiff {
  const fromStems = assignStems(from.cells.map((c) => c.name));
  const toStems = assignStems(to.cells.map((c) => c.name));
  const before = new Map(from.cells.map((c, i) => [c.id as string, { cell: c, file: cellFile(c, fromStems[i]) }]));
  const after = new Map(to.cells.map((c, i) => [c.id as string, { cell: c, file: cellFile(c, toStems[i]) }]));
  const cells: CellChange[] = [];
  for (const [id, b] of after) {
    const a = before.get(id);
    if (!a) {
      cells.push({
        id,
        status: 'added',
        name: b.cell.name,
        kind: b.cell.kind,
        diff: unifiedDiff('', b.file.content, '/dev/null', `b/${b.file.path}`),
      });
      continue;
    }
    if (cellContentKey(a.cell) === cellContentKey(b.cell)) continue;
    const renamed = a.cell.name !== b.cell.name;
    const change: CellChange = {
      id,
      status: renamed ? 'renamed' : 'changed',
      name: b.cell.name,
      kind: b.cell.kind,
      diff: unifiedDiff(a.file.content, b.file.content, `a/${a.file.path}`, `b/${b.file.path}`),
    };
    if (renamed) change.previousName = a.cell.name;
    if (a.cell.kind !== b.cell.kind) change.previousKind = a.cell.kind;
    if ((a.cell.engine ?? '') !== (b.cell.engine ?? '')) change.engine = { from: a.cell.engine, to: b.cell.engine };
    cells.push(change);
  }
  for (const [id, a] of before) {
    if (after.has(id)) continue;
    cells.push({
      id,
      status: 'removed',
      name: a.cell.name,
      kind: a.cell.kind,
      diff: unifiedDiff(a.file.content, '', `a/${a.file.path}`, '/dev/null'),
    });
  }
  const kept = (s: NotebookState, other: Map<string, unknown>) =>
    s.cells.filter((c) => other.has(c.id)).map((c) => c.id as string);
  const orderChanged = JSON.stringify(kept(from, after)) !== JSON.stringify(kept(to, before));
  const out: NotebookDiff = { orderChanged, cells };
  if (from.title !== to.title) out.title = { from: from.title, to: to.title };
  if (from.defaultEngine !== to.defaultEngine) out.defaultEngine = { from: from.defaultEngine, to: to.defaultEngine };
  return out;
}
