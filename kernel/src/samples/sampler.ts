// Samples of source cells for the browser's instant preview: the first N rows (or a seeded random sample) of what a
// source cell reads, as one Arrow IPC stream no larger than a byte cap. The browser's DuckDB-WASM has no Parquet or
// JSON reader offline, so Arrow is the one format it can load without an extension. See docs/preview.md.
import type { CellId, CellSnapshot, ColumnInfo } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import {
  Bool,
  DateDay,
  Float64,
  Int32,
  Int64,
  makeVector,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { resolveDataPath } from '../data/paths.ts';
import type { DuckDBWarehouse } from '../engines/duckdb.ts';
import type { Engine } from '../engines/engine.ts';

export type SampleMode = 'first' | 'random';

export interface SampleOptions {
  rows: number;
  maxBytes: number;
  mode: SampleMode;
  seed: number;
}

export interface SampleLimits {
  /** Defaults when a request names none (PIPEBOOK_SAMPLE_ROWS, PIPEBOOK_SAMPLE_MAX_BYTES). */
  rows: number;
  maxBytes: number;
  /** Ceilings a request may not exceed, so one caller cannot make the kernel hold a whole table in memory. */
  maxRows: number;
  maxBytesCeiling: number;
}

export function sampleLimits(env: NodeJS.ProcessEnv = process.env): SampleLimits {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
    return Math.floor(n);
  };
  return {
    rows: num('PIPEBOOK_SAMPLE_ROWS', 10_000),
    maxBytes: num('PIPEBOOK_SAMPLE_MAX_BYTES', 5 * 1024 * 1024),
    maxRows: num('PIPEBOOK_SAMPLE_MAX_ROWS', 1_000_000),
    maxBytesCeiling: num('PIPEBOOK_SAMPLE_MAX_BYTES_CEILING', 128 * 1024 * 1024),
  };
}

/** Options from a request's query (`rows`, `maxBytes`, `mode`, `seed`), within the limits. */
export function sampleOptions(query: Record<string, unknown>, limits: SampleLimits): SampleOptions {
  const int = (name: string, fallback: number, max: number) => {
    const raw = query[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new PipebookError('bad_request', `${name} must be a positive integer, got "${String(raw)}".`);
    if (n > max) throw new PipebookError('bad_request', `${name} may be at most ${max}.`);
    return n;
  };
  const mode = query.mode ?? 'first';
  if (mode !== 'first' && mode !== 'random')
    throw new PipebookError('bad_request', `mode must be "first" or "random", got "${String(mode)}".`);
  const seedRaw = query.seed ?? 42;
  const seed = Number(seedRaw);
  if (!Number.isInteger(seed) || seed < 0)
    throw new PipebookError('bad_request', `seed must be a non-negative integer, got "${String(seedRaw)}".`);
  return {
    rows: int('rows', limits.rows, limits.maxRows),
    maxBytes: int('maxBytes', limits.maxBytes, limits.maxBytesCeiling),
    mode,
    seed,
  };
}

/** The statement that samples a source's compiled SELECT. One row more than asked tells whether there are more. */
export function sampleSql(sourceSql: string, opts: Pick<SampleOptions, 'rows' | 'mode' | 'seed'>, dialect: Dialect) {
  const n = Math.floor(opts.rows);
  if (opts.mode === 'random' && dialect === 'duckdb') {
    // Reservoir sampling of exactly n rows; REPEATABLE makes the same seed give the same rows.
    return `SELECT * FROM (\n${sourceSql}\n) AS pipebook_sample USING SAMPLE reservoir(${n} ROWS) REPEATABLE (${Math.floor(opts.seed)})`;
  }
  return `SELECT * FROM (\n${sourceSql}\n) AS pipebook_sample LIMIT ${n + 1}`;
}

export interface Sample {
  cellId: CellId;
  columns: ColumnInfo[];
  rowCount: number;
  /** Fewer rows than the source holds (the row count or the byte cap cut it). */
  truncated: boolean;
  /** The byte cap, not the row count, decided how many rows were kept. */
  cappedByBytes: boolean;
  mode: SampleMode;
  arrow: Uint8Array;
}

/** A query's rows column by column (cheaper to read from DuckDB and to encode than rows). */
export interface ColumnarPage {
  columns: ColumnInfo[];
  rowCount: number;
  /** Values as JS (bigint, Date, ...), one array per column. */
  js(): unknown[][];
  /** Values as JSON-safe values, one array per column (for types sent as text). */
  json(): unknown[][];
}

export async function readColumnar(wh: DuckDBWarehouse, sql: string): Promise<ColumnarPage> {
  const r = await wh.with((c) => c.runAndReadAll(sql));
  const names = r.columnNames();
  const types = r.columnTypes();
  let js: unknown[][] | undefined;
  let json: unknown[][] | undefined;
  return {
    columns: names.map((name, i) => ({ name, type: types[i].toString() })),
    rowCount: r.currentRowCount,
    js: () => {
      js ??= r.getColumnsJS() as unknown[][];
      return js;
    },
    json: () => {
      json ??= r.getColumnsJson() as unknown[][];
      return json;
    },
  };
}

/** Rows (as a remote engine streams them) as a columnar page. */
export function columnarFromRows(columns: ColumnInfo[], rows: unknown[][]): ColumnarPage {
  const cols = () => columns.map((_, i) => rows.map((r) => r[i]));
  let c: unknown[][] | undefined;
  return {
    columns,
    rowCount: rows.length,
    js: () => {
      c ??= cols();
      return c;
    },
    json: () => {
      c ??= cols();
      return c;
    },
  };
}

const INT32_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT']);

/**
 * One column as an Arrow vector, typed as result pages are (kernel/src/results/pager.ts: BIGINT as Int64, decimals as
 * Float64, dates as Date32, timestamps as Timestamp(ms), other types as text); numeric columns without nulls are
 * built straight from typed arrays, which is what makes large samples cheap.
 */
function vectorFor(col: ColumnInfo, js: () => unknown[], json: () => unknown[]): Vector {
  const t = col.type.toUpperCase();
  if (t === 'BOOLEAN') return vectorFromArray(js(), new Bool()) as Vector;
  if (INT32_TYPES.has(t)) {
    const v = js();
    return (v.includes(null) ? vectorFromArray(v, new Int32()) : makeVector(Int32Array.from(v as number[]))) as Vector;
  }
  if (t === 'BIGINT' || t === 'UINTEGER') {
    const v = js().map((x) => (x === null ? null : BigInt(x as bigint | number)));
    return (
      v.includes(null) ? vectorFromArray(v, new Int64()) : makeVector(BigInt64Array.from(v as bigint[]))
    ) as Vector;
  }
  if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) {
    const v = js().map((x) => (x === null ? null : Number(x)));
    return (
      v.includes(null) ? vectorFromArray(v, new Float64()) : makeVector(Float64Array.from(v as number[]))
    ) as Vector;
  }
  if (t === 'DATE') return vectorFromArray(js(), new DateDay()) as Vector;
  if (t === 'TIMESTAMP' || t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMP_MS') {
    return vectorFromArray(
      js().map((x) => (x instanceof Date ? x.getTime() : x)),
      new TimestampMillisecond(),
    ) as Vector;
  }
  if (t === 'VARCHAR') return vectorFromArray(js(), new Utf8()) as Vector;
  return vectorFromArray(
    json().map((x) => (x === null ? null : typeof x === 'string' ? x : JSON.stringify(x))),
    new Utf8(),
  ) as Vector;
}

/** The first `rows` rows of a columnar page as one Arrow IPC stream. */
export function columnarToArrow(page: ColumnarPage, rows: number): Uint8Array {
  const vectors: Record<string, Vector> = {};
  const all = rows >= page.rowCount;
  page.columns.forEach((c, i) => {
    vectors[c.name] = vectorFor(
      c,
      () => (all ? page.js()[i] : page.js()[i].slice(0, rows)),
      () => (all ? page.json()[i] : page.json()[i].slice(0, rows)),
    );
  });
  return tableToIPC(new Table(vectors), 'stream');
}

/**
 * Encodes at most `rows` rows of a page as Arrow IPC within `maxBytes`: when the whole page is too large, fewer rows
 * are kept, in proportion to the size measured, until it fits.
 */
export function encodeWithinCap(
  page: ColumnarPage,
  rows: number,
  maxBytes: number,
): { arrow: Uint8Array; rowCount: number; cappedByBytes: boolean } {
  let n = Math.min(rows, page.rowCount);
  let arrow = columnarToArrow(page, n);
  let capped = false;
  while (arrow.byteLength > maxBytes && n > 0) {
    capped = true;
    const next = Math.floor(((n * maxBytes) / arrow.byteLength) * 0.95);
    n = next < n ? next : n - 1;
    arrow = columnarToArrow(page, n);
  }
  return { arrow, rowCount: n, cappedByBytes: capped };
}

export interface SamplerDeps {
  warehouse: DuckDBWarehouse;
  dataDir: string;
  /** The engine a cell runs on (its own, or the notebook's default). */
  engineFor(cell: CellSnapshot): Engine;
  /** Where a remote engine may write a temporary result (a Parquet path it later deletes). */
  tempResultPath(): string;
}

/** Samples one source cell of a notebook. */
export async function sampleSource(
  deps: SamplerDeps,
  cells: CellSnapshot[],
  cellId: string,
  opts: SampleOptions,
  signal: AbortSignal = new AbortController().signal,
): Promise<Sample> {
  const cell = cells.find((c) => c.id === cellId);
  if (!cell) throw new PipebookError('not_found', `Cell ${cellId} does not exist (it may have been deleted).`);
  const id: CellId = cell.id;
  if (cell.kind !== 'source')
    throw new PipebookError(
      'bad_request',
      `${cell.name} is a ${cell.kind} cell: only source cells are sampled (the preview computes the rest).`,
      { cellId },
    );
  const engine = deps.engineFor(cell);
  const dialect = engine.info.dialect;
  const compiled = compileCell(cells, id, dialect, {
    resolveFile: (p) => resolveDataPath(deps.dataDir, p, { mustExist: true }),
  });
  let page: ColumnarPage;
  let mode = opts.mode;
  if (engine.info.type === 'duckdb') {
    page = await readColumnar(deps.warehouse, sampleSql(compiled.sql, opts, 'duckdb'));
  } else {
    // Remote warehouses: the first rows, fetched through the engine like any query (random sampling syntax differs
    // per warehouse and would scan the whole table).
    mode = 'first';
    page = await remotePage(deps, engine, sampleSql(compiled.sql, { ...opts, mode: 'first' }, dialect), opts, signal);
  }
  // First rows are read one beyond the count, so one more row tells; a reservoir sample holds at most `rows` rows,
  // and holding that many means the source may hold more (exactly as many reads the same either way).
  const more = mode === 'random' ? page.rowCount >= opts.rows : page.rowCount > opts.rows;
  const enc = encodeWithinCap(page, opts.rows, opts.maxBytes);
  return {
    cellId: id,
    columns: page.columns,
    rowCount: enc.rowCount,
    truncated: more || enc.cappedByBytes,
    cappedByBytes: enc.cappedByBytes,
    mode,
    arrow: enc.arrow,
  };
}

async function remotePage(
  deps: SamplerDeps,
  engine: Engine,
  sql: string,
  opts: SampleOptions,
  signal: AbortSignal,
): Promise<ColumnarPage> {
  const resultPath = deps.tempResultPath();
  const out = await engine.execute({ sql, signal, resultPath, tag: 'pipebook-sample' });
  if (out.type === 'materialized') {
    try {
      return await readColumnar(
        deps.warehouse,
        `SELECT * FROM read_parquet('${resultPath.replaceAll("'", "''")}') LIMIT ${opts.rows + 1}`,
      );
    } finally {
      await import('node:fs/promises').then((fs) => fs.rm(resultPath, { force: true }));
    }
  }
  const rows: unknown[][] = [];
  for await (const batch of out.batches) {
    for (const r of batch) {
      if (rows.length > opts.rows) break;
      rows.push(r);
    }
    if (rows.length > opts.rows) break;
  }
  return columnarFromRows(out.columns, rows);
}
