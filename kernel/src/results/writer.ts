// Remote engines stream row batches; this writes them to the same Parquet form the embedded engine produces, going
// through a newline-delimited JSON spool file so only one batch is in memory at a time.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type ColumnInfo, PipebookError } from '@pipebook/shared';
import { type DuckDBWarehouse, sqlIdent, sqlString } from '../engines/duckdb.ts';
import type { Row } from '../engines/engine.ts';

/** A DuckDB type that holds values an engine reported under `type` (exact where it matters, VARCHAR otherwise). */
export function duckdbTypeFor(type: string): string {
  const t = type.trim().toUpperCase();
  const dec = /^(?:DECIMAL|NUMBER|NUMERIC)\s*\((\d+)\s*,\s*(\d+)\)$/.exec(t);
  if (dec) {
    const p = Math.min(38, Number(dec[1]));
    const s = Math.min(p, Number(dec[2]));
    return s === 0 && p <= 18 ? 'BIGINT' : `DECIMAL(${p},${s})`;
  }
  if (/^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|LONG|SHORT|BYTE|FIXED)$/.test(t)) return 'BIGINT';
  if (/^(HUGEINT)$/.test(t)) return 'HUGEINT';
  if (/^(FLOAT|FLOAT4|FLOAT8|DOUBLE|REAL|DOUBLE PRECISION)$/.test(t)) return 'DOUBLE';
  if (/^(BOOLEAN|BOOL)$/.test(t)) return 'BOOLEAN';
  if (t === 'DATE') return 'DATE';
  if (/^(TIMESTAMP_TZ|TIMESTAMP_LTZ|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ)/.test(t)) return 'TIMESTAMPTZ';
  if (/^(TIMESTAMP|TIMESTAMP_NTZ|DATETIME)/.test(t)) return 'TIMESTAMP';
  return 'VARCHAR';
}

function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return JSON.stringify(v);
  if (Array.isArray(v)) return JSON.stringify(v);
  return v;
}

export async function writeStreamToParquet(
  wh: DuckDBWarehouse,
  columns: ColumnInfo[],
  batches: AsyncIterable<Row[]>,
  resultPath: string,
  signal: AbortSignal,
  onRows?: (rows: number) => void,
): Promise<number> {
  const spool = `${resultPath}.ndjson.tmp`;
  const out = createWriteStream(spool);
  let rows = 0;
  try {
    for await (const batch of batches) {
      if (signal.aborted) throw new PipebookError('cancelled', 'The query was cancelled.');
      let chunk = '';
      for (const row of batch) {
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) obj[`c${i}`] = jsonValue(row[i]);
        chunk += `${JSON.stringify(obj)}\n`;
      }
      rows += batch.length;
      if (!out.write(chunk)) await once(out, 'drain');
      onRows?.(rows);
    }
    out.end();
    await once(out, 'finish');
    const spec = columns.map((c, i) => `${sqlString(`c${i}`)}: ${sqlString(duckdbTypeFor(c.type))}`).join(', ');
    const select = columns.map((c, i) => `${sqlIdent(`c${i}`)} AS ${sqlIdent(c.name)}`).join(', ');
    const empty = columns.map((c) => `NULL::${duckdbTypeFor(c.type)} AS ${sqlIdent(c.name)}`).join(', ');
    const source =
      rows === 0
        ? `SELECT ${empty || '1 AS "?"'} WHERE false`
        : `SELECT ${select} FROM read_json(${sqlString(spool)}, format = 'newline_delimited', columns = {${spec}})`;
    await wh.run(`COPY (${source}) TO ${sqlString(resultPath)} (FORMAT parquet)`);
    return rows;
  } finally {
    out.destroy();
    await rm(spool, { force: true });
  }
}
