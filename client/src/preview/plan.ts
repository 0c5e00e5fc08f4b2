// The preview's plain logic: which source samples a cell needs, the DuckDB statement that previews it over those
// samples (the shared compiler, with each source read from its sample table), what to tell a person when the
// browser's DuckDB cannot run a construct, and how the preview's columns compare with the engine's last result.
import {
  buildGraph,
  type CellId,
  type CellSnapshot,
  type ColumnInfo,
  compileCell,
  type Dialect,
  PipebookError,
  quoteIdent,
} from '@pipebook/shared';

/** The table a source cell's sample is loaded into, in the browser's DuckDB. */
export function sampleTable(cellId: CellId): string {
  return `__pipebook_sample_${cellId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export interface PreviewPlan {
  cellId: CellId;
  /** DuckDB SQL over the sample tables. */
  sql: string;
  /** Source cells whose samples must be loaded first, in graph order. */
  sources: CellId[];
}

/**
 * The preview statement of a cell: the cell and its upstream compiled for DuckDB, every source cell read from its
 * sample table. Throws PipebookError (graph errors, compile errors) naming the cell, as a run would.
 */
export function planPreview(cells: readonly CellSnapshot[], cellId: CellId): PreviewPlan {
  const cell = cells.find((c) => c.id === cellId);
  if (!cell) throw new PipebookError('not_found', `Cell ${cellId} does not exist (it may have been deleted).`);
  if (cell.kind === 'source') {
    return { cellId, sql: `SELECT * FROM ${quoteIdent('duckdb', sampleTable(cellId))}`, sources: [cellId] };
  }
  const graph = buildGraph(cells, 'duckdb');
  const byId = graph.byId;
  const sources = new Set<CellId>();
  const compiled = compileCell(cells, cellId, 'duckdb', {
    graph,
    relationFor: (id) => {
      if (byId.get(id)?.kind !== 'source') return undefined;
      sources.add(id);
      return quoteIdent('duckdb', sampleTable(id));
    },
  });
  const order = graph.rank;
  return {
    cellId,
    sql: compiled.sql,
    sources: [...sources].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)),
  };
}

export interface PreviewProblem {
  /** The construct the browser's DuckDB cannot run (a function, table function, type or extension), if known. */
  construct?: string;
  /** The extension it lives in, when DuckDB says so. */
  extension?: string;
  message: string;
}

/**
 * A message a person can act on for an error of the browser's DuckDB: constructs it does not have (functions of the
 * cell engine's dialect, functions of extensions the browser cannot load) are named, and the person is told the cell
 * still runs on its engine. Other errors (a typo, a missing column) are passed through as they are.
 */
export function explainPreviewError(raw: string, engine: string, dialect: Dialect): PreviewProblem {
  const first = raw.split('\n')[0].replace(/^[A-Za-z ]*Error: /, '');
  const runs = `The cell still runs on its engine (${engine}).`;
  const ext = raw.match(
    /(Scalar|Table|Aggregate|Pragma|Copy) Function with name "?([\w.]+)"? is not in the catalog, but it exists in the (\w+) extension/i,
  );
  if (ext) {
    const kind = ext[1].toLowerCase() === 'table' ? 'table function' : 'function';
    return {
      construct: ext[2],
      extension: ext[3],
      message: `Preview unavailable: the ${kind} ${ext[2]}() needs DuckDB's ${ext[3]} extension, which the in-browser preview engine does not load (it works offline, without downloads). ${runs}`,
    };
  }
  const extType = raw.match(/Type with name "?(\w+)"? is not in the catalog, but it exists in the (\w+) extension/i);
  if (extType) {
    return {
      construct: extType[1],
      extension: extType[2],
      message: `Preview unavailable: the type ${extType[1]} needs DuckDB's ${extType[2]} extension, which the in-browser preview engine does not load. ${runs}`,
    };
  }
  const missing = raw.match(/(Scalar|Table|Aggregate) Function with name "?([\w.]+)"? does not exist/i);
  if (missing) {
    const kind = missing[1].toLowerCase() === 'table' ? 'table function' : 'function';
    const where = dialect === 'duckdb' ? 'this engine' : `${dialect} SQL`;
    return {
      construct: missing[2],
      message: `Preview unavailable: the ${kind} ${missing[2]}() is not something DuckDB in the browser has (it belongs to ${where}). ${runs}`,
    };
  }
  const type = raw.match(/Type with name "?(\w+)"? does not exist/i);
  if (type) {
    return {
      construct: type[1],
      message: `Preview unavailable: the type ${type[1]} is not a DuckDB type (${dialect} SQL). ${runs}`,
    };
  }
  if (/extension/i.test(first) && /(install|load|autoload)/i.test(raw)) {
    const name = raw.match(/"?(\w+)"? extension/i)?.[1];
    return {
      extension: name,
      construct: name,
      message: `Preview unavailable: this needs DuckDB's ${name ?? 'an'} extension, which the in-browser preview engine does not load. ${runs}`,
    };
  }
  const table = raw.match(/Table with name "?([\w.]+)"? does not exist/i);
  if (table) {
    return {
      construct: table[1],
      message: `Preview unavailable: this cell reads the table ${table[1]} directly, and the preview only has samples of source cells. Add a source cell for ${table[1]} to preview it. ${runs}`,
    };
  }
  if (dialect !== 'duckdb' && /Parser Error/i.test(raw)) {
    const near = raw.match(/at or near "([^"]+)"/)?.[1];
    return {
      construct: near,
      message: `Preview unavailable: ${near ? `"${near}" is ${dialect} syntax` : `this is ${dialect} syntax`} that DuckDB in the browser cannot parse. ${runs}`,
    };
  }
  return { message: `Preview failed: ${first}` };
}

export type ColumnDiff =
  | { kind: 'missing'; name: string; engineType: string }
  | { kind: 'extra'; name: string; previewType: string }
  | { kind: 'type'; name: string; previewType: string; engineType: string };

const TYPE_ALIASES: Record<string, string> = {
  INT: 'INTEGER',
  INT4: 'INTEGER',
  INT8: 'BIGINT',
  LONG: 'BIGINT',
  INT2: 'SMALLINT',
  SHORT: 'SMALLINT',
  TEXT: 'VARCHAR',
  STRING: 'VARCHAR',
  CHAR: 'VARCHAR',
  BPCHAR: 'VARCHAR',
  FLOAT8: 'DOUBLE',
  'DOUBLE PRECISION': 'DOUBLE',
  FLOAT4: 'FLOAT',
  REAL: 'FLOAT',
  BOOL: 'BOOLEAN',
  NUMERIC: 'DECIMAL',
  NUMBER: 'DECIMAL',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
};

/** A type name in one spelling across engines (INT -> INTEGER, STRING -> VARCHAR, NUMBER(p,s) -> DECIMAL(p,s)). */
export function normalizeType(t: string): string {
  const up = t.trim().toUpperCase().replace(/\s+/g, ' ');
  const m = up.match(/^([A-Z_ 0-9]+?)\s*(\(.*\))?$/);
  if (!m) return up;
  const base = TYPE_ALIASES[m[1]] ?? m[1];
  const args = (m[2] ?? '').replace(/\s+/g, '');
  if (base === 'VARCHAR') return 'VARCHAR';
  return `${base}${args}`;
}

/** How the preview's columns differ from the engine's last result (names matched case-insensitively). */
export function compareColumns(preview: ColumnInfo[], engine: ColumnInfo[]): ColumnDiff[] {
  const diffs: ColumnDiff[] = [];
  const eng = new Map(engine.map((c) => [c.name.toLowerCase(), c]));
  const seen = new Set<string>();
  for (const p of preview) {
    const key = p.name.toLowerCase();
    seen.add(key);
    const e = eng.get(key);
    if (!e) diffs.push({ kind: 'extra', name: p.name, previewType: p.type });
    else if (normalizeType(e.type) !== normalizeType(p.type))
      diffs.push({ kind: 'type', name: p.name, previewType: p.type, engineType: e.type });
  }
  for (const e of engine) {
    if (!seen.has(e.name.toLowerCase())) diffs.push({ kind: 'missing', name: e.name, engineType: e.type });
  }
  return diffs;
}

/** One line per difference, for the summary under the preview. */
export function describeDiff(d: ColumnDiff): string {
  switch (d.kind) {
    case 'missing':
      return `${d.name} (${d.engineType}) is in the last run but not in the preview`;
    case 'extra':
      return `${d.name} (${d.previewType}) is in the preview but not in the last run`;
    case 'type':
      return `${d.name}: ${d.previewType} in the preview, ${d.engineType} in the last run`;
  }
}
