// Import a dbt-style project into a notebook. A project exported by Pipebook carries pipebook.yml, which gives back
// the same cells (ids, kinds, configs); any other dbt project becomes source cells (from sources.yml) and SQL cells
// (one per model), with ref() and source() turned back into cell names. Files are untrusted: every path is checked.
import {
  CELL_KINDS,
  type CellId,
  CellId as CellIds,
  type CellKind,
  type CellSnapshot,
  DEFAULT_ENGINE,
  type NotebookState,
  PipebookError,
} from '@pipebook/shared';
import { buildGraph } from '@pipebook/shared/graph/dag';
import { DBT_FORMAT, DBT_MANIFEST } from './dbt-export.ts';
import { MAX_NAME, parseYaml } from './layout.ts';
import { checkRelativeFile, SAFE_ID, uniqueName } from './names.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const REF = /\{\{\s*ref\(\s*(['"])([^'"]+)\1\s*\)\s*\}\}/g;
const SOURCE = /\{\{\s*source\(\s*(['"])([^'"]+)\1\s*,\s*(['"])([^'"]+)\3\s*\)\s*\}\}(\s+AS\s+"([^"]+)")?/gi;
const CONFIG = /^\s*\{\{\s*config\([\s\S]*?\)\s*\}\}\s*\n?/;

interface SourceEntry {
  group: string;
  name: string;
  table: string;
  schema?: string;
  catalog?: string;
  id?: string;
}

function readSources(files: ReadonlyMap<string, string>): SourceEntry[] {
  const text = files.get('models/sources.yml');
  if (text === undefined) return [];
  const doc = parseYaml(text, 'models/sources.yml');
  if (!isRecord(doc) || !Array.isArray(doc.sources)) return [];
  const out: SourceEntry[] = [];
  for (const g of doc.sources) {
    if (!isRecord(g) || typeof g.name !== 'string' || !Array.isArray(g.tables)) continue;
    for (const t of g.tables) {
      if (!isRecord(t) || typeof t.name !== 'string') continue;
      const meta = isRecord(t.meta) ? t.meta : {};
      out.push({
        group: g.name,
        name: t.name,
        table: typeof t.identifier === 'string' ? t.identifier : t.name,
        ...(typeof g.schema === 'string' && g.schema !== 'main' ? { schema: g.schema } : {}),
        ...(typeof g.database === 'string' ? { catalog: g.database } : {}),
        ...(typeof meta.pipebook_id === 'string' ? { id: meta.pipebook_id } : {}),
      });
    }
  }
  return out;
}

/** Model SQL back to notebook SQL: config() dropped, ref()/source() replaced by the cell names they stand for. */
export function modelSqlToCell(
  sql: string,
  modelName: (stem: string) => string,
  sourceName: (group: string, name: string) => string,
): string {
  return sql
    .replace(CONFIG, '')
    .replace(REF, (_m, _q, stem: string) => modelName(stem))
    .replace(
      SOURCE,
      (_m, _q1, group: string, _q2, name: string, aliasPart: string | undefined, alias: string | undefined) => {
        const cellName = sourceName(group, name);
        return aliasPart && alias !== cellName ? `${cellName}${aliasPart}` : cellName;
      },
    )
    .replace(/\n$/, '');
}

export function importDbtProject(
  files: ReadonlyMap<string, string>,
  fallbackTitle = 'Imported project',
): NotebookState {
  const manifestText = files.get(DBT_MANIFEST);
  const sources = readSources(files);
  if (manifestText !== undefined) return importWithManifest(files, manifestText, sources);
  return importPlain(files, sources, fallbackTitle);
}

function stripNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

function importWithManifest(files: ReadonlyMap<string, string>, text: string, sources: SourceEntry[]): NotebookState {
  const doc = parseYaml(text, DBT_MANIFEST);
  if (!isRecord(doc) || doc.format !== DBT_FORMAT || !Array.isArray(doc.cells)) {
    throw new PipebookError('invalid_file', `${DBT_MANIFEST} is not a Pipebook project manifest.`);
  }
  const entries = doc.cells.map((raw, i) => {
    const where = `${DBT_MANIFEST}: cells.${i}`;
    if (!isRecord(raw)) throw new PipebookError('invalid_file', `${where} must be a mapping.`);
    if (typeof raw.id !== 'string' || !SAFE_ID.test(raw.id))
      throw new PipebookError('invalid_file', `${where}.id is not a valid cell id.`);
    if (typeof raw.name !== 'string' || !raw.name || raw.name.length > MAX_NAME)
      throw new PipebookError('invalid_file', `${where}.name is not valid.`);
    if (typeof raw.kind !== 'string' || !(CELL_KINDS as readonly string[]).includes(raw.kind)) {
      throw new PipebookError('invalid_file', `${where}.kind is not a cell kind.`);
    }
    return raw as { id: string; name: string; kind: CellKind; file?: unknown; engine?: unknown; config?: unknown };
  });
  // Model stems (file names) back to cell names.
  const stemToName = new Map<string, string>();
  for (const e of entries) {
    if (typeof e.file === 'string' && e.file.startsWith('models/')) stemToName.set(e.file.slice(7, -4), e.name);
  }
  const sourceToName = new Map(sources.map((s) => [`${s.group}\0${s.name}`, s.name]));
  const cells: CellSnapshot[] = entries.map((e) => {
    const config = isRecord(e.config) ? e.config : {};
    let source = '';
    if (e.kind === 'sql' || e.kind === 'markdown' || e.kind === 'pyspark') {
      const [dir, ext] =
        e.kind === 'sql' ? ['models', 'sql'] : e.kind === 'markdown' ? ['notes', 'md'] : ['python', 'py'];
      const path = checkRelativeFile(e.file, dir, [ext]);
      const content = files.get(path);
      if (content === undefined) throw new PipebookError('invalid_file', `${path} is missing from the project.`);
      source =
        e.kind === 'sql'
          ? modelSqlToCell(
              content,
              (stem) => stemToName.get(stem) ?? stem,
              (g, n) => sourceToName.get(`${g}\0${n}`) ?? n,
            )
          : stripNewline(content);
    }
    return {
      id: e.id as CellId,
      name: e.name,
      kind: e.kind,
      source,
      config: e.kind === 'sql' || e.kind === 'markdown' || e.kind === 'pyspark' ? {} : config,
      ...(typeof e.engine === 'string' && e.engine ? { engine: e.engine } : {}),
    };
  });
  return {
    title: typeof doc.title === 'string' && doc.title ? doc.title : 'Imported project',
    defaultEngine: typeof doc.defaultEngine === 'string' && doc.defaultEngine ? doc.defaultEngine : DEFAULT_ENGINE,
    cells,
  };
}

function importPlain(files: ReadonlyMap<string, string>, sources: SourceEntry[], title: string): NotebookState {
  const taken = new Set<string>();
  const cells: CellSnapshot[] = [];
  const sourceNames = new Map<string, string>();
  for (const s of sources) {
    const name = uniqueName(s.name, taken);
    sourceNames.set(`${s.group}\0${s.name}`, name);
    cells.push({
      id: (s.id && SAFE_ID.test(s.id) ? s.id : CellIds.create()) as CellId,
      name,
      kind: 'source',
      source: '',
      config: {
        type: 'table',
        table: s.table,
        ...(s.schema ? { schema: s.schema } : {}),
        ...(s.catalog ? { catalog: s.catalog } : {}),
      },
    });
  }
  const models = [...files.keys()].filter((p) => /^models\/[A-Za-z0-9_]{1,80}\.sql$/.test(p)).sort();
  const stemToName = new Map<string, string>();
  for (const path of models) stemToName.set(path.slice(7, -4), uniqueName(path.slice(7, -4), taken));
  for (const path of models) {
    const stem = path.slice(7, -4);
    cells.push({
      id: CellIds.create(),
      name: stemToName.get(stem)!,
      kind: 'sql',
      source: modelSqlToCell(
        files.get(path)!,
        (s) => stemToName.get(s) ?? s,
        (g, n) => sourceNames.get(`${g}\0${n}`) ?? n,
      ),
      config: {},
    });
  }
  if (cells.length === 0)
    throw new PipebookError(
      'invalid_file',
      'No models or sources found (expected models/*.sql or models/sources.yml).',
    );
  // Inputs before readers, as a notebook reads best.
  const graph = buildGraph(cells, 'duckdb');
  const byId = new Map(cells.map((c) => [c.id as string, c]));
  return { title, defaultEngine: DEFAULT_ENGINE, cells: graph.order.map((id) => byId.get(id)!) };
}
