// Readers: plain snapshots of the document, resolved the same way on every replica.
import * as Y from 'yjs';
import type { CellId } from '../ids.ts';
import {
  CELL_KEY,
  CELL_KINDS,
  type CellKind,
  type CellSnapshot,
  DEFAULT_ENGINE,
  META_KEY,
  type NotebookMeta,
  ROOT,
  type RunSummary,
} from './schema.ts';

export type CellMap = Y.Map<unknown>;

export function metaMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(ROOT.meta);
}
export function cellsMap(doc: Y.Doc): Y.Map<CellMap> {
  return doc.getMap(ROOT.cells);
}
export function orderArray(doc: Y.Doc): Y.Array<string> {
  return doc.getArray(ROOT.order);
}
export function runsMap(doc: Y.Doc): Y.Map<RunSummary> {
  return doc.getMap(ROOT.runs);
}

export function readMeta(doc: Y.Doc): NotebookMeta {
  const m = metaMap(doc);
  return {
    title: (m.get(META_KEY.title) as string | undefined) ?? 'Untitled',
    schemaVersion: (m.get(META_KEY.schemaVersion) as number | undefined) ?? 0,
    defaultEngine: (m.get(META_KEY.defaultEngine) as string | undefined) ?? DEFAULT_ENGINE,
  };
}

/**
 * The display order, identical on every replica: the first occurrence of a repeated id keeps its place (two people
 * moved the same cell at once), ids of deleted cells are skipped, and cells missing from the order are appended
 * sorted by id.
 */
export function readOrder(doc: Y.Doc): CellId[] {
  const cells = cellsMap(doc);
  const seen = new Set<string>();
  const out: CellId[] = [];
  for (const id of orderArray(doc).toArray()) {
    if (seen.has(id) || !cells.has(id)) continue;
    seen.add(id);
    out.push(id as CellId);
  }
  const missing = [...cells.keys()].filter((id) => !seen.has(id)).sort();
  for (const id of missing) out.push(id as CellId);
  return out;
}

export function getCellMap(doc: Y.Doc, id: CellId): CellMap | undefined {
  return cellsMap(doc).get(id);
}

export function cellSourceText(cell: CellMap): Y.Text {
  return cell.get(CELL_KEY.source) as Y.Text;
}
export function cellConfigMap(cell: CellMap): Y.Map<unknown> {
  return cell.get(CELL_KEY.config) as Y.Map<unknown>;
}

export function snapshotCell(cell: CellMap): CellSnapshot {
  const kindRaw = cell.get(CELL_KEY.kind) as string;
  const kind: CellKind = (CELL_KINDS as readonly string[]).includes(kindRaw) ? (kindRaw as CellKind) : 'sql';
  const engine = cell.get(CELL_KEY.engine) as string | undefined;
  const source = cell.get(CELL_KEY.source);
  const config = cell.get(CELL_KEY.config);
  return {
    id: cell.get(CELL_KEY.id) as CellId,
    name: (cell.get(CELL_KEY.name) as string | undefined) ?? '',
    kind,
    source: source instanceof Y.Text ? source.toString() : '',
    config: config instanceof Y.Map ? (config.toJSON() as Record<string, unknown>) : {},
    ...(engine ? { engine } : {}),
  };
}

export function readCell(doc: Y.Doc, id: CellId): CellSnapshot | undefined {
  const cell = getCellMap(doc, id);
  return cell ? snapshotCell(cell) : undefined;
}

/** Every cell, in display order. */
export function readCells(doc: Y.Doc): CellSnapshot[] {
  const cells = cellsMap(doc);
  return readOrder(doc).map((id) => snapshotCell(cells.get(id)!));
}

export function readRun(doc: Y.Doc, id: CellId): RunSummary | undefined {
  return runsMap(doc).get(id);
}

export function readRuns(doc: Y.Doc): Record<string, RunSummary> {
  return runsMap(doc).toJSON() as Record<string, RunSummary>;
}

/** Cells by name. With duplicate names (possible after concurrent edits) the list has more than one id. */
export function cellIdsByName(doc: Y.Doc): Map<string, CellId[]> {
  const out = new Map<string, CellId[]>();
  for (const c of readCells(doc)) {
    const list = out.get(c.name);
    if (list) list.push(c.id);
    else out.set(c.name, [c.id]);
  }
  return out;
}
