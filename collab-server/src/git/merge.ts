// Cell-by-cell three-way merge of notebook states. Cells are matched by id; within a cell each field (name, kind,
// source, config, engine) merges on its own, so one person renaming a cell while another edits its SQL is not a
// conflict, and two edits to different lines of the same source are combined line by line. Only a field changed differently on both sides (or a cell changed on one side and deleted on the other)
// conflicts, and then only that cell: every other cell is merged.
import type { CellSnapshot, NotebookState } from '@pipebook/shared';
import { cellFile, sortKeys } from './layout.ts';
import { unifiedDiff } from './line-diff.ts';
import { cellFileStem } from './names.ts';
import { cellContentKey } from './notebook-diff.ts';
import { mergeText } from './text-merge.ts';

export type ConflictReason =
  | 'both_changed'
  | 'changed_and_deleted'
  | 'deleted_and_changed'
  | 'both_added'
  | 'duplicate_name';
export type Resolution = 'ours' | 'theirs';

export interface CellConflict {
  id: string;
  /** The cell's name in the merged result (or ours/theirs when it is absent from the result). */
  name: string;
  reason: ConflictReason;
  /** Fields changed differently on both sides (both_changed only). */
  fields: string[];
  base?: CellSnapshot;
  ours?: CellSnapshot;
  theirs?: CellSnapshot;
  /** Which side the merged result took for the conflicting part. */
  resolution: Resolution;
  /** Unified diff from ours to theirs of the cell's file (empty when one side deleted the cell). */
  diff: string;
}

function conflictDiff(ours: CellSnapshot | undefined, theirs: CellSnapshot | undefined): string {
  if (!ours || !theirs) return '';
  const a = cellFile(ours, cellFileStem(ours.name));
  const b = cellFile(theirs, cellFileStem(theirs.name));
  return unifiedDiff(a.content, b.content, `ours/${a.path}`, `theirs/${b.path}`);
}

export interface MergeResult {
  state: NotebookState;
  conflicts: CellConflict[];
  /** Title or default engine changed differently on both sides (ours kept). */
  metaConflicts: Array<'title' | 'defaultEngine'>;
}

type Field = 'name' | 'kind' | 'source' | 'config' | 'engine';
const FIELDS: Field[] = ['name', 'kind', 'source', 'config', 'engine'];

function fieldKey(c: CellSnapshot, f: Field): string {
  if (f === 'config') return JSON.stringify(sortKeys(c.config));
  return JSON.stringify(c[f] ?? null);
}

function same(a: CellSnapshot | undefined, b: CellSnapshot | undefined): boolean {
  if (!a || !b) return a === b;
  return cellContentKey(a) === cellContentKey(b);
}

function mergeValue<T>(base: T, ours: T, theirs: T): { value: T; conflict: boolean } {
  const k = (v: T) => JSON.stringify(v ?? null);
  if (k(ours) === k(theirs) || k(theirs) === k(base)) return { value: ours, conflict: false };
  if (k(ours) === k(base)) return { value: theirs, conflict: false };
  return { value: ours, conflict: true };
}

/**
 * Merges `theirs` into `ours` relative to their common ancestor `base`. `resolutions` picks a side per conflicting
 * cell id (default: ours, i.e. the branch being merged into keeps its version of a conflicting cell).
 */
export function mergeStates(
  base: NotebookState,
  ours: NotebookState,
  theirs: NotebookState,
  resolutions: Record<string, Resolution> = {},
): MergeResult {
  const b = new Map(base.cells.map((c) => [c.id as string, c]));
  const o = new Map(ours.cells.map((c) => [c.id as string, c]));
  const t = new Map(theirs.cells.map((c) => [c.id as string, c]));
  const ids = [...new Set([...o.keys(), ...t.keys(), ...b.keys()])];
  const merged = new Map<string, CellSnapshot>();
  const conflicts: CellConflict[] = [];

  for (const id of ids) {
    const bc = b.get(id);
    const oc = o.get(id);
    const tc = t.get(id);
    const pick = resolutions[id] ?? 'ours';
    if (same(oc, tc) || same(bc, tc)) {
      if (oc) merged.set(id, oc);
      continue;
    }
    if (same(bc, oc)) {
      if (tc) merged.set(id, tc);
      continue;
    }
    // Both sides differ from the base and from each other.
    if (!oc || !tc || !bc) {
      const reason: ConflictReason = !bc ? 'both_added' : !oc ? 'deleted_and_changed' : 'changed_and_deleted';
      const chosen = pick === 'ours' ? oc : tc;
      if (chosen) merged.set(id, chosen);
      conflicts.push({
        id,
        name: (chosen ?? oc ?? tc)!.name,
        reason,
        fields: [],
        base: bc,
        ours: oc,
        theirs: tc,
        resolution: pick,
        diff: conflictDiff(oc, tc),
      });
      continue;
    }
    const out: CellSnapshot = { ...oc };
    const conflicting: Field[] = [];
    for (const f of FIELDS) {
      const bk = fieldKey(bc, f);
      const ok = fieldKey(oc, f);
      const tk = fieldKey(tc, f);
      if (ok === tk || tk === bk) continue;
      if (ok === bk) {
        setField(out, tc, f);
        continue;
      }
      if (f === 'source') {
        // Both edited the text: edits to different lines combine (diff3); only overlapping ones conflict.
        const text = mergeText(bc.source, oc.source, tc.source);
        if (!text.conflict) {
          out.source = text.text!;
          continue;
        }
      }
      conflicting.push(f);
      if (pick === 'theirs') setField(out, tc, f);
    }
    merged.set(id, out);
    if (conflicting.length) {
      conflicts.push({
        id,
        name: out.name,
        reason: 'both_changed',
        fields: conflicting,
        base: bc,
        ours: oc,
        theirs: tc,
        resolution: pick,
        diff: conflictDiff(oc, tc),
      });
    }
  }

  const order = mergeOrder(
    base.cells.map((c) => c.id as string),
    ours.cells.map((c) => c.id as string),
    theirs.cells.map((c) => c.id as string),
    new Set(merged.keys()),
  );
  const cells = order.map((id) => merged.get(id)!);

  // Two cells may now share a name (each side added one): ours keeps it, the other is renamed and reported.
  const names = new Set<string>();
  const indices = cells.map((_, i) => i);
  const priority = (i: number) => (o.has(cells[i].id) ? 0 : 1);
  indices.sort((x, y) => priority(x) - priority(y) || x - y);
  for (const i of indices) {
    const c = cells[i];
    let name = c.name;
    if (names.has(name.toLowerCase())) {
      let n = 2;
      while (names.has(`${c.name}_${n}`.toLowerCase())) n++;
      name = `${c.name}_${n}`;
      cells[i] = { ...c, name };
      conflicts.push({
        id: c.id,
        name,
        reason: 'duplicate_name',
        fields: ['name'],
        base: b.get(c.id),
        ours: o.get(c.id),
        theirs: t.get(c.id),
        resolution: o.has(c.id) ? 'ours' : 'theirs',
        diff: '',
      });
    }
    names.add(name.toLowerCase());
  }

  const metaConflicts: Array<'title' | 'defaultEngine'> = [];
  const title = mergeValue(base.title, ours.title, theirs.title);
  if (title.conflict) metaConflicts.push('title');
  const engine = mergeValue(base.defaultEngine, ours.defaultEngine, theirs.defaultEngine);
  if (engine.conflict) metaConflicts.push('defaultEngine');
  return { state: { title: title.value, defaultEngine: engine.value, cells }, conflicts, metaConflicts };
}

function setField(out: CellSnapshot, from: CellSnapshot, f: Field): void {
  switch (f) {
    case 'name':
      out.name = from.name;
      break;
    case 'kind':
      out.kind = from.kind;
      break;
    case 'source':
      out.source = from.source;
      break;
    case 'config':
      out.config = from.config;
      break;
    case 'engine':
      if (from.engine) out.engine = from.engine;
      else delete out.engine;
      break;
  }
}

/**
 * Order: the side that reordered wins (ours when both did); cells missing from that order (added on the other side)
 * are placed after their nearest predecessor in the other side's order.
 */
export function mergeOrder(base: string[], ours: string[], theirs: string[], keep: Set<string>): string[] {
  const unchanged = (side: string[]) => {
    const common = new Set(side.filter((id) => base.includes(id)));
    return JSON.stringify(base.filter((id) => common.has(id))) === JSON.stringify(side.filter((id) => common.has(id)));
  };
  const [primary, secondary] = unchanged(ours) && !unchanged(theirs) ? [theirs, ours] : [ours, theirs];
  const result = primary.filter((id) => keep.has(id));
  const placed = new Set(result);
  const insertMissing = (source: string[]) => {
    source.forEach((id, i) => {
      if (!keep.has(id) || placed.has(id)) return;
      let at = 0;
      for (let p = i - 1; p >= 0; p--) {
        const idx = result.indexOf(source[p]);
        if (idx >= 0) {
          at = idx + 1;
          break;
        }
      }
      result.splice(at, 0, id);
      placed.add(id);
    });
  };
  insertMissing(secondary);
  insertMissing([...keep]);
  return result;
}
