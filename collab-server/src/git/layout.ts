// The diff-friendly layout of a notebook in Git: `notebook.yaml` (order, ids, names, kinds, engines) plus one file
// per cell under `cells/`. Formatting is deterministic (sorted keys, fixed line width, one trailing newline), so a
// cell that did not change produces byte-identical files and never shows in a diff.
import {
  CELL_KINDS,
  type CellId,
  type CellKind,
  type CellSnapshot,
  DEFAULT_ENGINE,
  type NotebookState,
  PipebookError,
} from '@pipebook/shared';
import YAML from 'yaml';
import { assignStems, checkRelativeFile, SAFE_ID } from './names.ts';
import { emitYaml } from './yaml-emit.ts';

export const LAYOUT_FORMAT = 'pipebook-git';
export const LAYOUT_VERSION = 1;
export const NOTEBOOK_FILE = 'notebook.yaml';
export const CELLS_DIR = 'cells';
/** Cell names are SQL identifiers (63 characters) in a valid notebook; longer ones are refused outright. */
export const MAX_NAME = 200;

/** Extension of the file holding a cell: text kinds keep their source, every other kind keeps its config as YAML. */
export function cellExtension(kind: CellKind): 'sql' | 'md' | 'py' | 'yaml' {
  switch (kind) {
    case 'sql':
      return 'sql';
    case 'markdown':
      return 'md';
    case 'pyspark':
      return 'py';
    case 'source':
    case 'filter':
    case 'select':
    case 'join':
    case 'aggregate':
    case 'sort':
    case 'limit':
    case 'union':
    case 'target':
      return 'yaml';
  }
}

const TEXT_EXTENSIONS = new Set(['sql', 'md', 'py']);

/** YAML with sorted keys and no line folding: the same value always prints the same bytes. */
export function stableYaml(value: unknown): string {
  return YAML.stringify(value, {
    sortMapEntries: true,
    lineWidth: 0,
    minContentWidth: 0,
    aliasDuplicateObjects: false,
  });
}

export function parseYaml(text: string, what: string): unknown {
  try {
    return YAML.parse(text, { maxAliasCount: 50, uniqueKeys: true });
  } catch (e) {
    throw new PipebookError('invalid_file', `${what} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** One trailing newline is added on write and removed on read, so sources round-trip exactly. */
export function textFileContent(source: string): string {
  return `${source}\n`;
}
function textFromFile(content: string): string {
  return content.endsWith('\n') ? content.slice(0, -1) : content;
}

/** What a cell looks like in Git: its file and that file's content (also what per-cell diffs compare). */
export interface CellFile {
  path: string;
  content: string;
}

export function cellFile(cell: CellSnapshot, stem: string): CellFile {
  const ext = cellExtension(cell.kind);
  const path = `${CELLS_DIR}/${stem}.${ext}`;
  return { path, content: TEXT_EXTENSIONS.has(ext) ? textFileContent(cell.source) : stableYaml(cell.config) };
}

/** The layout of a notebook state: repository-relative path -> UTF-8 content. */
export function stateToFiles(state: NotebookState): Map<string, string> {
  for (const c of state.cells) {
    if (!SAFE_ID.test(c.id))
      throw new PipebookError('invalid_name', `Cell id ${JSON.stringify(String(c.id).slice(0, 80))} is not valid.`, {
        cellId: c.id,
      });
    if (c.name.length === 0 || c.name.length > MAX_NAME) {
      throw new PipebookError(
        'invalid_name',
        `Cell ${c.id} has an empty or overly long name (at most ${MAX_NAME} characters).`,
        { cellId: c.id },
      );
    }
  }
  const files = new Map<string, string>();
  const stems = assignStems(state.cells.map((c) => c.name));
  const entries = state.cells.map((cell, i) => {
    const file = cellFile(cell, stems[i]);
    files.set(file.path, file.content);
    const textKind = TEXT_EXTENSIONS.has(cellExtension(cell.kind));
    return {
      id: cell.id,
      name: cell.name,
      kind: cell.kind,
      file: file.path,
      ...(cell.engine ? { engine: cell.engine } : {}),
      // Lossless for odd documents: a text cell's config and a config cell's source are kept when not empty.
      ...(textKind && Object.keys(cell.config).length ? { config: cell.config } : {}),
      ...(!textKind && cell.source ? { source: cell.source } : {}),
    };
  });
  const header =
    '# Pipebook notebook. Cells are listed in display order; each cell lives in its own file under cells/.\n';
  files.set(
    NOTEBOOK_FILE,
    header +
      emitYaml({
        format: LAYOUT_FORMAT,
        version: LAYOUT_VERSION,
        title: state.title,
        defaultEngine: state.defaultEngine,
        cells: entries.map((e) => stableEntry(e)),
      }),
  );
  return files;
}

// Fixed key order per entry (id first reads best); nested config keys are sorted.
function stableEntry(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['id', 'name', 'kind', 'file', 'engine', 'source', 'config']) {
    if (e[k] !== undefined) out[k] = k === 'config' ? sortKeys(e[k]) : e[k];
  }
  return out;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The reverse: files (from a commit, a checkout or a pulled remote, so untrusted) back to a notebook state. Every
 * path comes from `notebook.yaml` and is checked to be a `cells/` file with a safe stem.
 */
export function filesToState(files: ReadonlyMap<string, string>): NotebookState {
  const text = files.get(NOTEBOOK_FILE);
  if (text === undefined) throw new PipebookError('invalid_file', `${NOTEBOOK_FILE} is missing.`);
  const doc = parseYaml(text, NOTEBOOK_FILE);
  if (!isRecord(doc) || doc.format !== LAYOUT_FORMAT) {
    throw new PipebookError('invalid_file', `${NOTEBOOK_FILE} is not a Pipebook notebook (format: ${LAYOUT_FORMAT}).`);
  }
  if (doc.version !== LAYOUT_VERSION) {
    throw new PipebookError(
      'invalid_file',
      `${NOTEBOOK_FILE} has version ${String(doc.version)}; this server reads ${LAYOUT_VERSION}.`,
    );
  }
  if (!Array.isArray(doc.cells)) throw new PipebookError('invalid_file', `${NOTEBOOK_FILE}: cells must be a list.`);
  const ids = new Set<string>();
  const cells: CellSnapshot[] = doc.cells.map((raw, i): CellSnapshot => {
    const where = `${NOTEBOOK_FILE}: cells.${i}`;
    if (!isRecord(raw)) throw new PipebookError('invalid_file', `${where} must be a mapping.`);
    const { id, name, kind, file, engine } = raw;
    if (typeof id !== 'string' || !SAFE_ID.test(id))
      throw new PipebookError('invalid_file', `${where}.id is not a valid cell id.`);
    if (ids.has(id)) throw new PipebookError('invalid_file', `${where}.id "${id}" appears twice.`);
    ids.add(id);
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) {
      throw new PipebookError('invalid_file', `${where}.name must be a non-empty string.`);
    }
    if (typeof kind !== 'string' || !(CELL_KINDS as readonly string[]).includes(kind)) {
      throw new PipebookError('invalid_file', `${where}.kind "${String(kind)}" is not a cell kind.`);
    }
    const ext = cellExtension(kind as CellKind);
    const path = checkRelativeFile(file, CELLS_DIR, [ext]);
    const content = files.get(path);
    if (content === undefined) throw new PipebookError('invalid_file', `${where}: ${path} is missing.`);
    if (engine !== undefined && (typeof engine !== 'string' || engine.length === 0 || engine.length > 100)) {
      throw new PipebookError('invalid_file', `${where}.engine must be a short string.`);
    }
    let source = '';
    let config: Record<string, unknown> = {};
    if (TEXT_EXTENSIONS.has(ext)) {
      source = textFromFile(content);
      if (raw.config !== undefined) {
        if (!isRecord(raw.config)) throw new PipebookError('invalid_file', `${where}.config must be a mapping.`);
        config = raw.config;
      }
    } else {
      const parsed = parseYaml(content, path);
      if (!isRecord(parsed)) throw new PipebookError('invalid_file', `${path} must hold a mapping.`);
      config = parsed;
      if (raw.source !== undefined) {
        if (typeof raw.source !== 'string') throw new PipebookError('invalid_file', `${where}.source must be text.`);
        source = raw.source;
      }
    }
    return {
      id: id as CellId,
      name,
      kind: kind as CellKind,
      source,
      config,
      ...(typeof engine === 'string' ? { engine } : {}),
    };
  });
  return {
    title: typeof doc.title === 'string' && doc.title ? doc.title : 'Untitled',
    defaultEngine: typeof doc.defaultEngine === 'string' && doc.defaultEngine ? doc.defaultEngine : DEFAULT_ENGINE,
    cells,
  };
}
