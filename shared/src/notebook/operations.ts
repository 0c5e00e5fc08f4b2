// Typed operations on the notebook document. Each runs in exactly one Yjs transaction, so collaborators see it whole
// and one undo reverts it.
import * as Y from 'yjs';
import { PipebookError } from '../errors.ts';
import { rewritePythonReferences } from '../graph/python.ts';
import { rewriteReferences } from '../graph/references.ts';
import { CellId } from '../ids.ts';
import { createOrigin, type TxOrigin } from './origins.ts';
import {
  cellConfigMap,
  cellSourceText,
  cellsMap,
  getCellMap,
  metaMap,
  orderArray,
  readCells,
  readOrder,
  runsMap,
  snapshotCell,
} from './read.ts';
import {
  CELL_KEY,
  CELL_KINDS,
  CELL_NAME_PATTERN,
  type CellKind,
  DEFAULT_ENGINE,
  META_KEY,
  type RunSummary,
  SCHEMA_VERSION,
} from './schema.ts';

const LOCAL_ORIGIN = createOrigin('user');

function transact<T>(doc: Y.Doc, origin: TxOrigin | undefined, fn: () => T): T {
  let out!: T;
  doc.transact(() => {
    out = fn();
  }, origin ?? LOCAL_ORIGIN);
  return out;
}

function requireCell(doc: Y.Doc, id: CellId) {
  const cell = getCellMap(doc, id);
  if (!cell)
    throw new PipebookError('not_found', `Cell ${id} does not exist (it may have been deleted by someone else).`);
  return cell;
}

export function validateCellName(name: string): void {
  if (!CELL_NAME_PATTERN.test(name)) {
    throw new PipebookError(
      'invalid_name',
      `"${name}" is not a valid cell name: use letters, digits and _ (not starting with a digit), at most 63 characters.`,
    );
  }
}

function nameTaken(doc: Y.Doc, name: string, except?: CellId): boolean {
  const lower = name.toLowerCase();
  for (const [id, cell] of cellsMap(doc)) {
    if (id !== except && String(cell.get(CELL_KEY.name) ?? '').toLowerCase() === lower) return true;
  }
  return false;
}

/** A free name derived from `base` (SQL names are case-insensitive, so the check is too). */
export function uniqueCellName(doc: Y.Doc, base: string): string {
  let clean = base.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 56);
  if (!/^[A-Za-z_]/.test(clean)) clean = `c_${clean}`;
  if (!nameTaken(doc, clean)) return clean;
  for (let i = 2; ; i++) {
    const candidate = `${clean}_${i}`;
    if (!nameTaken(doc, candidate)) return candidate;
  }
}

/** Sets up meta on a new document; leaves an existing notebook's meta alone. */
export function initNotebook(
  doc: Y.Doc,
  opts: { title?: string; defaultEngine?: string } = {},
  origin?: TxOrigin,
): void {
  transact(doc, origin, () => {
    const meta = metaMap(doc);
    if (meta.get(META_KEY.schemaVersion) === undefined) meta.set(META_KEY.schemaVersion, SCHEMA_VERSION);
    if (meta.get(META_KEY.title) === undefined) meta.set(META_KEY.title, opts.title ?? 'Untitled notebook');
    if (meta.get(META_KEY.defaultEngine) === undefined)
      meta.set(META_KEY.defaultEngine, opts.defaultEngine ?? DEFAULT_ENGINE);
  });
}

export function setTitle(doc: Y.Doc, title: string, origin?: TxOrigin): void {
  const t = title.trim();
  if (!t || t.length > 200) throw new PipebookError('bad_request', 'A title needs 1 to 200 characters.');
  transact(doc, origin, () => metaMap(doc).set(META_KEY.title, t));
}

export function setDefaultEngine(doc: Y.Doc, engine: string, origin?: TxOrigin): void {
  transact(doc, origin, () => metaMap(doc).set(META_KEY.defaultEngine, engine));
}

export interface NewCell {
  kind: CellKind;
  /** Defaults to a free name derived from the kind. */
  name?: string;
  source?: string;
  config?: Record<string, unknown>;
  engine?: string;
  /** Keep a given id (import, restore); otherwise a fresh random one. */
  id?: CellId;
}

export interface Placement {
  /** Insert after this cell; absent (and no index) = at the end. */
  after?: CellId;
  /** Position in the resolved order. */
  index?: number;
}

function buildCell(doc: Y.Doc, spec: NewCell): { id: CellId; cell: Y.Map<unknown> } {
  if (!(CELL_KINDS as readonly string[]).includes(spec.kind)) {
    throw new PipebookError('bad_request', `Unknown cell kind "${spec.kind}". Use one of: ${CELL_KINDS.join(', ')}.`);
  }
  const name = spec.name ?? uniqueCellName(doc, spec.kind === 'sql' ? 'query' : spec.kind);
  validateCellName(name);
  if (nameTaken(doc, name)) throw new PipebookError('duplicate_name', `A cell named "${name}" already exists.`);
  const id = spec.id ?? CellId.create();
  if (cellsMap(doc).has(id)) throw new PipebookError('conflict', `A cell with id ${id} already exists.`);
  const cell = new Y.Map<unknown>();
  cell.set(CELL_KEY.id, id);
  cell.set(CELL_KEY.name, name);
  cell.set(CELL_KEY.kind, spec.kind);
  cell.set(CELL_KEY.source, new Y.Text(spec.source ?? ''));
  const config = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(spec.config ?? {})) if (v !== undefined) config.set(k, v);
  cell.set(CELL_KEY.config, config);
  if (spec.engine) cell.set(CELL_KEY.engine, spec.engine);
  return { id, cell };
}

/** Raw index in the order array before which a cell must go to land at `index` of the resolved order. */
function rawInsertIndex(doc: Y.Doc, resolvedWithout: CellId[], index: number): number {
  const order = orderArray(doc);
  if (index >= resolvedWithout.length) return order.length;
  const next = resolvedWithout[Math.max(0, index)];
  const raw = order.toArray().indexOf(next);
  return raw === -1 ? order.length : raw;
}

function placementIndex(resolved: CellId[], where: Placement | undefined): number {
  if (where?.after !== undefined) {
    const i = resolved.indexOf(where.after);
    return i === -1 ? resolved.length : i + 1;
  }
  if (where?.index !== undefined) return Math.max(0, Math.min(where.index, resolved.length));
  return resolved.length;
}

export function addCell(doc: Y.Doc, spec: NewCell, where?: Placement, origin?: TxOrigin): CellId {
  return transact(doc, origin, () => {
    const { id, cell } = buildCell(doc, spec);
    const resolved = readOrder(doc);
    const at = rawInsertIndex(doc, resolved, placementIndex(resolved, where));
    cellsMap(doc).set(id, cell);
    orderArray(doc).insert(at, [id]);
    return id;
  });
}

/** Adds several cells in one transaction (Copilot, templates), each placed after the previous one. */
export function addCells(doc: Y.Doc, specs: NewCell[], where?: Placement, origin?: TxOrigin): CellId[] {
  return transact(doc, origin, () => {
    const ids: CellId[] = [];
    let place = where;
    for (const spec of specs) {
      const id = addCell(doc, spec, place, origin);
      ids.push(id);
      place = { after: id };
    }
    return ids;
  });
}

/**
 * Moves a cell to `toIndex` of the resolved order. Only the id moves in the order array (deleted and re-inserted),
 * so the cell keeps its identity, text and any concurrent edit to it.
 */
export function moveCell(doc: Y.Doc, id: CellId, toIndex: number, origin?: TxOrigin): void {
  transact(doc, origin, () => {
    requireCell(doc, id);
    const order = orderArray(doc);
    const raw = order.toArray();
    for (let i = raw.length - 1; i >= 0; i--) if (raw[i] === id) order.delete(i, 1);
    const resolvedWithout = readOrder(doc).filter((x) => x !== id);
    const target = Math.max(0, Math.min(toIndex, resolvedWithout.length));
    order.insert(rawInsertIndex(doc, resolvedWithout, target), [id]);
  });
}

export function deleteCell(doc: Y.Doc, id: CellId, origin?: TxOrigin): void {
  transact(doc, origin, () => {
    requireCell(doc, id);
    const order = orderArray(doc);
    const raw = order.toArray();
    for (let i = raw.length - 1; i >= 0; i--) if (raw[i] === id) order.delete(i, 1);
    cellsMap(doc).delete(id);
    runsMap(doc).delete(id);
  });
}

export function duplicateCell(doc: Y.Doc, id: CellId, origin?: TxOrigin): CellId {
  return transact(doc, origin, () => {
    const src = snapshotCell(requireCell(doc, id));
    return addCell(
      doc,
      {
        kind: src.kind,
        name: uniqueCellName(doc, `${src.name}_copy`),
        source: src.source,
        config: structuredClone(src.config),
        engine: src.engine,
      },
      { after: id },
      origin,
    );
  });
}

/** Replaces a Y.Text's content with a minimal edit (common prefix and suffix kept), so concurrent edits survive. */
export function replaceText(text: Y.Text, next: string): void {
  const prev = text.toString();
  if (prev === next) return;
  let start = 0;
  const max = Math.min(prev.length, next.length);
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++;
  let endPrev = prev.length;
  let endNext = next.length;
  while (endPrev > start && endNext > start && prev.charCodeAt(endPrev - 1) === next.charCodeAt(endNext - 1)) {
    endPrev--;
    endNext--;
  }
  if (endPrev > start) text.delete(start, endPrev - start);
  if (endNext > start) text.insert(start, next.slice(start, endNext));
}

export function setSource(doc: Y.Doc, id: CellId, source: string, origin?: TxOrigin): void {
  transact(doc, origin, () => replaceText(cellSourceText(requireCell(doc, id)), source));
}

/**
 * Renames a cell and, in the same transaction, rewrites every reference to the old name in other cells' SQL (found
 * by the SQL tokenizer, so strings, comments and shadowing CTEs are left alone) and in PySpark cells. Visual steps
 * refer by id and need no rewrite.
 */
export function renameCell(doc: Y.Doc, id: CellId, newName: string, origin?: TxOrigin): void {
  validateCellName(newName);
  transact(doc, origin, () => {
    const cell = requireCell(doc, id);
    const oldName = String(cell.get(CELL_KEY.name) ?? '');
    if (oldName === newName) return;
    if (nameTaken(doc, newName, id))
      throw new PipebookError('duplicate_name', `A cell named "${newName}" already exists.`);
    cell.set(CELL_KEY.name, newName);
    for (const other of readCells(doc)) {
      if (other.id === id || (other.kind !== 'sql' && other.kind !== 'pyspark')) continue;
      const edits =
        other.kind === 'sql'
          ? rewriteReferences(other.source, oldName, newName)
          : rewritePythonReferences(other.source, oldName, newName);
      if (edits.length === 0) continue;
      const text = cellSourceText(getCellMap(doc, other.id)!);
      // Apply from the end so earlier offsets stay valid.
      for (const e of [...edits].sort((a, b) => b.start - a.start)) {
        text.delete(e.start, e.end - e.start);
        text.insert(e.start, e.text);
      }
    }
  });
}

/** Sets config fields; a field set to undefined is removed. Each field is last-writer-wins on its own. */
export function setConfig(doc: Y.Doc, id: CellId, patch: Record<string, unknown>, origin?: TxOrigin): void {
  transact(doc, origin, () => {
    const config = cellConfigMap(requireCell(doc, id));
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) config.delete(k);
      else config.set(k, structuredClone(v));
    }
  });
}

export function setCellEngine(doc: Y.Doc, id: CellId, engine: string | undefined, origin?: TxOrigin): void {
  transact(doc, origin, () => {
    const cell = requireCell(doc, id);
    if (engine) cell.set(CELL_KEY.engine, engine);
    else cell.delete(CELL_KEY.engine);
  });
}

/** Writes a cell's run summary (the kernel does this). Missing cells are ignored: the cell was deleted meanwhile. */
export function setRun(doc: Y.Doc, id: CellId, summary: RunSummary, origin?: TxOrigin): void {
  transact(doc, origin, () => {
    if (cellsMap(doc).has(id)) runsMap(doc).set(id, summary);
  });
}

export function setRuns(doc: Y.Doc, summaries: Array<[CellId, RunSummary]>, origin?: TxOrigin): void {
  transact(doc, origin, () => {
    for (const [id, s] of summaries) if (cellsMap(doc).has(id)) runsMap(doc).set(id, s);
  });
}

export function clearRun(doc: Y.Doc, id: CellId, origin?: TxOrigin): void {
  transact(doc, origin, () => runsMap(doc).delete(id));
}
