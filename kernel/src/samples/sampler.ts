// Samples of source cells for the browser's instant preview: the first N rows (or a seeded random sample) of what a
// source cell reads, as one Arrow IPC stream no larger than a byte cap. The browser's DuckDB-WASM has no Parquet or
// JSON reader offline, so Arrow is the one format it can load without an extension. See docs/preview.md.
import type { CellId, CellSnapshot, ColumnInfo } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { resolveDataPath } from '../data/paths.ts';
import type { DuckDBWarehouse } from '../engines/duckdb.ts';
import type { Engine } from '../engines/engine.ts';
import { type Page, pageToArrow } from '../results/pager.ts';

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

function slicePage(page: Page, rows: number): Page {
  return {
    columns: page.columns,
    rowsJs: page.rowsJs.slice(0, rows),
    rowsJson: page.rowsJson.slice(0, rows),
  };
}

/**
 * Encodes at most `rows` rows of a page as Arrow IPC within `maxBytes`: when the whole page is too large, fewer rows
 * are kept, in proportion to the size measured, until it fits.
 */
export function encodeWithinCap(
  page: Page,
  rows: number,
  maxBytes: number,
): { arrow: Uint8Array; rowCount: number; cappedByBytes: boolean } {
  let n = Math.min(rows, page.rowsJs.length);
  let arrow = pageToArrow(slicePage(page, n));
  let capped = false;
  while (arrow.byteLength > maxBytes && n > 0) {
    capped = true;
    const next = Math.floor(((n * maxBytes) / arrow.byteLength) * 0.95);
    n = next < n ? next : n - 1;
    arrow = pageToArrow(slicePage(page, n));
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
  let page: Page;
  let mode = opts.mode;
  if (engine.info.type === 'duckdb') {
    page = await deps.warehouse.readAll(sampleSql(compiled.sql, opts, 'duckdb'));
  } else {
    // Remote warehouses: the first rows, fetched through the engine like any query (random sampling syntax differs
    // per warehouse and would scan the whole table).
    mode = 'first';
    page = await remotePage(deps, engine, sampleSql(compiled.sql, { ...opts, mode: 'first' }, dialect), opts, signal);
  }
  const more = page.rowsJs.length > opts.rows;
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
): Promise<Page> {
  const resultPath = deps.tempResultPath();
  const out = await engine.execute({ sql, signal, resultPath, tag: 'pipebook-sample' });
  if (out.type === 'materialized') {
    try {
      return await deps.warehouse.readAll(
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
  return { columns: out.columns, rowsJs: rows, rowsJson: rows };
}
