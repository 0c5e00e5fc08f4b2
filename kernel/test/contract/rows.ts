// Turning what an engine produced into comparable rows: stream outcomes go through the kernel's own result writer
// (the path a real run takes), then every result is read back from Parquet the same way.
import type { CellSnapshot } from '@pipebook/shared';
import { sqlString } from '../../src/engines/duckdb.ts';
import type { Engine, ExecuteOutcome, Row } from '../../src/engines/engine.ts';
import { writeStreamToParquet } from '../../src/results/writer.ts';
import type { StartedEngine } from './targets.ts';

let counter = 0;

export function resultPathIn(started: StartedEngine): string {
  counter += 1;
  return `${started.resultDir}/result-${process.pid}-${counter}.parquet`;
}

export interface Collected {
  columns: string[];
  rows: unknown[][];
}

/** Runs `sql` and reads the rows back from the Parquet result the kernel would keep. */
export async function runToRows(
  started: StartedEngine,
  sql: string,
  signal = new AbortController().signal,
): Promise<Collected> {
  const resultPath = resultPathIn(started);
  const outcome = await started.engine.execute({ sql, signal, resultPath });
  if (outcome.type === 'stream')
    await writeStreamToParquet(started.kernelWarehouse, outcome.columns, outcome.batches, resultPath, signal);
  const r = await started.kernelWarehouse.readAll(`SELECT * FROM read_parquet(${sqlString(resultPath)})`);
  return { columns: r.columns.map((c) => c.name.toLowerCase()), rows: r.rowsJs };
}

/** The JS values an engine hands over, before any writer touches them (type conversion checks). */
export async function streamValues(
  engine: Engine,
  sql: string,
  resultPath: string,
): Promise<{ outcome: ExecuteOutcome; rows: Row[] }> {
  const outcome = await engine.execute({ sql, signal: new AbortController().signal, resultPath });
  const rows: Row[] = [];
  if (outcome.type === 'stream') for await (const b of outcome.batches) rows.push(...b);
  return { outcome, rows };
}

/** One canonical text per value so engines that hand over number vs bigint, or Date vs text, compare equal. */
export function canon(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

export function canonRows(rows: unknown[][], ordered: boolean): (string | null)[][] {
  const out = rows.map((r) => r.map(canon));
  if (!ordered)
    out.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
  return out;
}

export function sqlCell(id: string, name: string, source: string): CellSnapshot {
  return { id: id as CellSnapshot['id'], name, kind: 'sql', source, config: {} };
}

export function tableCell(id: string, table: string): CellSnapshot {
  return { id: id as CellSnapshot['id'], name: table, kind: 'source', source: '', config: { type: 'table', table } };
}

/** Waits for a condition (no fixed sleeps): polls every 20 ms until `deadlineMs`. */
export async function waitFor<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  deadlineMs = 10_000,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
