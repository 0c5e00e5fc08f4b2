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
  if (/^(BINARY|VARBINARY|BLOB|BYTEA|BYTES)\b/.test(t)) return 'BLOB';
  // Zone-aware kinds must be matched before the plain TIMESTAMP rule, which would otherwise take them by prefix and
  // read an offset-carrying value as wall-clock time. Precision may sit before the zone words: TIMESTAMP(6) WITH ...
  if (/^(TIMESTAMP_TZ|TIMESTAMP_LTZ|TIMESTAMPTZ)\b/.test(t)) return 'TIMESTAMPTZ';
  if (/^TIMESTAMP\s*(\(\s*\d+\s*\))?\s+WITH\s+(LOCAL\s+)?TIME\s+ZONE$/.test(t)) return 'TIMESTAMPTZ';
  if (/^(TIMESTAMP|TIMESTAMP_NTZ|DATETIME)/.test(t)) return 'TIMESTAMP';
  return 'VARCHAR';
}

/** Bytes travel through the JSON spool as base64 text and are decoded back to BLOB when the spool is read. */
function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function base64Of(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (isBytes(v)) return base64Of(v);
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
  const declared = columns.map((c) => duckdbTypeFor(c.type));
  // Per column: did bytes arrive, and did anything else that is not null? A column of an undeclared type (VARIANT,
  // an engine's own name) that carried only bytes is stored as BLOB too; a mixed one stays text.
  const sawBytes = columns.map(() => false);
  const sawOther = columns.map(() => false);
  try {
    for await (const batch of batches) {
      if (signal.aborted) throw new PipebookError('cancelled', 'The query was cancelled.');
      let chunk = '';
      for (const row of batch) {
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) {
          const v = row[i];
          if (isBytes(v)) sawBytes[i] = true;
          else if (v !== null && v !== undefined) sawOther[i] = true;
          // A BLOB column's text values are their UTF-8 bytes, so every spooled value in it is base64.
          obj[`c${i}`] =
            declared[i] === 'BLOB' && typeof v === 'string' ? Buffer.from(v, 'utf8').toString('base64') : jsonValue(v);
        }
        chunk += `${JSON.stringify(obj)}\n`;
      }
      rows += batch.length;
      if (!out.write(chunk)) await once(out, 'drain');
      onRows?.(rows);
    }
    out.end();
    await once(out, 'finish');
    const target = declared.map((t, i) =>
      t === 'BLOB' || (t === 'VARCHAR' && sawBytes[i] && !sawOther[i]) ? 'BLOB' : t,
    );
    const spec = columns
      .map((_, i) => `${sqlString(`c${i}`)}: ${sqlString(target[i] === 'BLOB' ? 'VARCHAR' : target[i])}`)
      .join(', ');
    const select = columns
      .map((c, i) => {
        const col = sqlIdent(`c${i}`);
        return `${target[i] === 'BLOB' ? `from_base64(${col})` : col} AS ${sqlIdent(c.name)}`;
      })
      .join(', ');
    const empty = columns.map((c, i) => `NULL::${target[i]} AS ${sqlIdent(c.name)}`).join(', ');
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
