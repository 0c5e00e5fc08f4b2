// The `.pipebook.json` file: a notebook's portable form, validated with zod so a bad file names the bad field.
import * as Y from 'yjs';
import { z } from 'zod';
import { PipebookError } from '../errors.ts';
import { CellId } from '../ids.ts';
import { replaceText } from './operations.ts';
import { createOrigin, type TxOrigin } from './origins.ts';
import { cellConfigMap, cellSourceText, cellsMap, metaMap, orderArray, readCells, readMeta, runsMap } from './read.ts';
import {
  CELL_KEY,
  CELL_KINDS,
  CELL_NAME_PATTERN,
  type CellSnapshot,
  DEFAULT_ENGINE,
  META_KEY,
  SCHEMA_VERSION,
} from './schema.ts';

export const FILE_FORMAT = 'pipebook';
export const FILE_VERSION = 1;

const cellSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  name: z.string().regex(CELL_NAME_PATTERN, 'must be a SQL identifier (letters, digits, _), at most 63 characters'),
  kind: z.enum(CELL_KINDS),
  source: z.string().max(1_000_000).default(''),
  config: z.record(z.string(), z.unknown()).default({}),
  engine: z.string().min(1).max(100).optional(),
});

export const pipebookFileSchema = z
  .object({
    format: z.literal(FILE_FORMAT),
    version: z.literal(FILE_VERSION),
    title: z.string().min(1).max(200),
    defaultEngine: z.string().min(1).max(100).default(DEFAULT_ENGINE),
    cells: z.array(cellSchema).max(5000),
  })
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const names = new Set<string>();
    file.cells.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'id'], message: `duplicate id "${c.id}"` });
      const lower = c.name.toLowerCase();
      if (names.has(lower))
        ctx.addIssue({ code: 'custom', path: ['cells', i, 'name'], message: `duplicate name "${c.name}"` });
      ids.add(c.id);
      names.add(lower);
    });
  });

export type PipebookFile = z.infer<typeof pipebookFileSchema>;

/** The state a notebook can be set to as a whole (import, restore). */
export interface NotebookState {
  title: string;
  defaultEngine: string;
  cells: CellSnapshot[];
}

export function exportNotebook(doc: Y.Doc): PipebookFile {
  const meta = readMeta(doc);
  return {
    format: FILE_FORMAT,
    version: FILE_VERSION,
    title: meta.title,
    defaultEngine: meta.defaultEngine,
    cells: readCells(doc).map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind,
      source: c.source,
      config: c.config,
      ...(c.engine ? { engine: c.engine } : {}),
    })),
  };
}

/** Validates an unknown value (e.g. parsed JSON) as a notebook file; the error names the first bad field. */
export function parseNotebookFile(input: unknown): PipebookFile {
  const result = pipebookFileSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.length ? issue.path.join('.') : '(file)';
  throw new PipebookError('invalid_file', `Invalid notebook file: ${path}: ${issue.message}`);
}

export function parseNotebookJson(text: string): PipebookFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PipebookError('invalid_file', `Invalid notebook file: not JSON (${(e as Error).message})`);
  }
  return parseNotebookFile(value);
}

export function fileToState(file: PipebookFile): NotebookState {
  return {
    title: file.title,
    defaultEngine: file.defaultEngine,
    cells: file.cells.map((c) => ({ ...c, id: CellId.of(c.id) })),
  };
}

/**
 * Sets the whole notebook to `state` in one transaction, editing cells in place where ids match (so the change is
 * minimal, collaborators see it at once, and one undo reverts it). Runs of removed cells are dropped.
 */
export function applyNotebookState(doc: Y.Doc, state: NotebookState, origin: TxOrigin = createOrigin('restore')): void {
  doc.transact(() => {
    const meta = metaMap(doc);
    if (meta.get(META_KEY.schemaVersion) !== SCHEMA_VERSION) meta.set(META_KEY.schemaVersion, SCHEMA_VERSION);
    if (meta.get(META_KEY.title) !== state.title) meta.set(META_KEY.title, state.title);
    if (meta.get(META_KEY.defaultEngine) !== state.defaultEngine) meta.set(META_KEY.defaultEngine, state.defaultEngine);
    const cells = cellsMap(doc);
    const keep = new Set(state.cells.map((c) => c.id as string));
    for (const id of [...cells.keys()]) {
      if (!keep.has(id)) {
        cells.delete(id);
        runsMap(doc).delete(id);
      }
    }
    for (const c of state.cells) {
      let cell = cells.get(c.id);
      if (!cell) {
        cell = new Y.Map<unknown>();
        cell.set(CELL_KEY.id, c.id);
        cell.set(CELL_KEY.source, new Y.Text());
        cell.set(CELL_KEY.config, new Y.Map());
        cells.set(c.id, cell);
      }
      if (cell.get(CELL_KEY.name) !== c.name) cell.set(CELL_KEY.name, c.name);
      if (cell.get(CELL_KEY.kind) !== c.kind) cell.set(CELL_KEY.kind, c.kind);
      replaceText(cellSourceText(cell), c.source);
      const config = cellConfigMap(cell);
      for (const k of [...config.keys()]) if (!(k in c.config)) config.delete(k);
      for (const [k, v] of Object.entries(c.config)) {
        if (JSON.stringify(config.get(k)) !== JSON.stringify(v)) config.set(k, structuredClone(v));
      }
      if (c.engine) {
        if (cell.get(CELL_KEY.engine) !== c.engine) cell.set(CELL_KEY.engine, c.engine);
      } else if (cell.has(CELL_KEY.engine)) cell.delete(CELL_KEY.engine);
    }
    const order = orderArray(doc);
    const wanted = state.cells.map((c) => c.id as string);
    if (JSON.stringify(order.toArray()) !== JSON.stringify(wanted)) {
      order.delete(0, order.length);
      order.insert(0, wanted);
    }
  }, origin);
}

export function importNotebook(doc: Y.Doc, file: PipebookFile, origin: TxOrigin = createOrigin('import')): void {
  applyNotebookState(doc, fileToState(file), origin);
}

/** A fresh Y.Doc holding `file` (used by servers to seed a new notebook). */
export function docFromFile(file: PipebookFile): Y.Doc {
  const doc = new Y.Doc();
  importNotebook(doc, file);
  return doc;
}
