import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBWarehouse } from '../engines/duckdb.ts';
import type { Row } from '../engines/engine.ts';
import { duckdbTypeFor, writeStreamToParquet } from './writer.ts';

let dir: string;
let wh: DuckDBWarehouse;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-writer-'));
  wh = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [dir] });
});
afterAll(async () => {
  await wh.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function* batches(rows: Row[], size: number): AsyncGenerator<Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

describe('writeStreamToParquet', () => {
  it('[R12] writes streamed batches of a remote engine to Parquet with matching types', async () => {
    const columns = [
      { name: 'ID', type: 'NUMBER(38,0)' },
      { name: 'AMOUNT', type: 'NUMBER(12,2)' },
      { name: 'NAME', type: 'TEXT' },
      { name: 'D', type: 'DATE' },
      { name: 'OK', type: 'BOOLEAN' },
      { name: 'BIG', type: 'BIGINT' },
    ];
    const rows: Row[] = Array.from({ length: 2500 }, (_, i) => [
      i,
      (i * 1.25).toFixed(2),
      i % 10 === 0 ? null : `n'"${i}`,
      '2024-03-01',
      i % 2 === 0,
      9007199254740993n,
    ]);
    const out = path.join(dir, 'remote.parquet');
    const seen: number[] = [];
    const n = await writeStreamToParquet(wh, columns, batches(rows, 1000), out, new AbortController().signal, (r) =>
      seen.push(r),
    );
    expect(n).toBe(2500);
    expect(seen).toEqual([1000, 2000, 2500]);
    const schema = await wh.describe(`SELECT * FROM read_parquet('${out}')`);
    expect(schema.map((c) => `${c.name}:${c.type}`)).toEqual([
      'ID:DECIMAL(38,0)',
      'AMOUNT:DECIMAL(12,2)',
      'NAME:VARCHAR',
      'D:DATE',
      'OK:BOOLEAN',
      'BIG:BIGINT',
    ]);
    const r = await wh.readAll(`SELECT * FROM read_parquet('${out}') WHERE "ID" IN (1, 10) ORDER BY "ID"`);
    expect(r.rowsJson).toEqual([
      ['1', '1.25', `n'"1`, '2024-03-01', false, '9007199254740993'],
      ['10', '12.50', null, '2024-03-01', true, '9007199254740993'],
    ]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes an empty result with its columns', async () => {
    const out = path.join(dir, 'empty.parquet');
    const n = await writeStreamToParquet(
      wh,
      [{ name: 'a', type: 'INT' }],
      batches([], 10),
      out,
      new AbortController().signal,
    );
    expect(n).toBe(0);
    expect(await wh.describe(`SELECT * FROM read_parquet('${out}')`)).toEqual([{ name: 'a', type: 'BIGINT' }]);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    async function* forever(): AsyncGenerator<Row[]> {
      for (;;) {
        ac.abort();
        yield [[1]];
      }
    }
    const err = await writeStreamToParquet(
      wh,
      [{ name: 'a', type: 'INT' }],
      forever(),
      path.join(dir, 'c.parquet'),
      ac.signal,
    ).catch((e) => e);
    expect(err.code).toBe('cancelled');
  });

  it('stores bytes from remote engines as BLOB, typed BLOB for BINARY columns', async () => {
    const columns = [
      { name: 'B', type: 'BINARY' },
      { name: 'V', type: 'VARBINARY(16)' },
      { name: 'ANY', type: 'VARIANT' },
      { name: 'MIXED', type: 'VARIANT' },
    ];
    const deadbeef = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    // A view into a larger buffer: only its own bytes must be written.
    const view = new Uint8Array([1, 2, 0, 255, 3]).subarray(2, 4);
    const rows: Row[] = [
      [deadbeef, view, Buffer.from([7, 8]), deadbeef],
      [null, new Uint8Array(0), null, 'text'],
      ['hi', null, new Uint8Array([9]), null],
    ];
    const out = path.join(dir, 'bytes.parquet');
    expect(await writeStreamToParquet(wh, columns, batches(rows, 2), out, new AbortController().signal)).toBe(3);
    const schema = await wh.describe(`SELECT * FROM read_parquet('${out}')`);
    expect(schema.map((c) => `${c.name}:${c.type}`)).toEqual(['B:BLOB', 'V:BLOB', 'ANY:BLOB', 'MIXED:VARCHAR']);
    const r = await wh.readAll(
      `SELECT hex("B"), hex("V"), octet_length("V")::INTEGER, hex("ANY"), "MIXED" FROM read_parquet('${out}')`,
    );
    expect(r.rowsJson).toEqual([
      ['DEADBEEF', '00FF', 2, '0708', '3q2+7w=='],
      [null, '', 0, null, 'text'],
      ['6869', null, null, '09', null],
    ]);
    // No value was written as the JSON of a byte array's indexes.
    const text = await wh.readAll(`SELECT "B"::VARCHAR FROM read_parquet('${out}') WHERE "B" IS NOT NULL`);
    expect(JSON.stringify(text.rowsJson)).not.toContain('"0":');

    const empty = path.join(dir, 'bytes-empty.parquet');
    await writeStreamToParquet(wh, columns.slice(0, 1), batches([], 1), empty, new AbortController().signal);
    expect(await wh.describe(`SELECT * FROM read_parquet('${empty}')`)).toEqual([{ name: 'B', type: 'BLOB' }]);
  });

  it('keeps the instant of zone-aware timestamps', async () => {
    const columns = [
      { name: 'TZ', type: 'TIMESTAMP_TZ' },
      { name: 'TZ9', type: 'TIMESTAMP_TZ(9)' },
      { name: 'ISO', type: 'TIMESTAMP(6) WITH TIME ZONE' },
      { name: 'NTZ', type: 'TIMESTAMP_NTZ' },
    ];
    const instant = new Date('2024-03-01T10:15:30.123Z');
    const rows: Row[] = [[instant, '2024-03-01T12:15:30.123+02:00', instant, '2024-03-01 10:15:30.123']];
    const out = path.join(dir, 'tz.parquet');
    await writeStreamToParquet(wh, columns, batches(rows, 1), out, new AbortController().signal);
    const schema = await wh.describe(`SELECT * FROM read_parquet('${out}')`);
    expect(schema.map((c) => `${c.name}:${c.type}`)).toEqual([
      'TZ:TIMESTAMP WITH TIME ZONE',
      'TZ9:TIMESTAMP WITH TIME ZONE',
      'ISO:TIMESTAMP WITH TIME ZONE',
      'NTZ:TIMESTAMP',
    ]);
    const r = await wh.readAll(
      `SELECT epoch_ms("TZ")::DOUBLE, epoch_ms("TZ9")::DOUBLE, epoch_ms("ISO")::DOUBLE, epoch_ms("NTZ")::DOUBLE FROM read_parquet('${out}')`,
    );
    const ms = instant.getTime();
    expect(r.rowsJson).toEqual([[ms, ms, ms, ms]]);
  });

  it('maps engine types to DuckDB types that hold their values', () => {
    expect(duckdbTypeFor('BINARY')).toBe('BLOB');
    expect(duckdbTypeFor('binary')).toBe('BLOB');
    expect(duckdbTypeFor('VARBINARY(8000)')).toBe('BLOB');
    expect(duckdbTypeFor('TIMESTAMP_TZ(9)')).toBe('TIMESTAMPTZ');
    expect(duckdbTypeFor('TIMESTAMP(3) WITH TIME ZONE')).toBe('TIMESTAMPTZ');
    expect(duckdbTypeFor('TIMESTAMP WITH LOCAL TIME ZONE')).toBe('TIMESTAMPTZ');
    expect(duckdbTypeFor('TIMESTAMP(3)')).toBe('TIMESTAMP');
    expect(duckdbTypeFor('NUMBER(38,0)')).toBe('DECIMAL(38,0)');
    expect(duckdbTypeFor('NUMBER(18,0)')).toBe('BIGINT');
    expect(duckdbTypeFor('decimal(10, 2)')).toBe('DECIMAL(10,2)');
    expect(duckdbTypeFor('FLOAT')).toBe('DOUBLE');
    expect(duckdbTypeFor('TIMESTAMP_NTZ')).toBe('TIMESTAMP');
    expect(duckdbTypeFor('TIMESTAMP_TZ')).toBe('TIMESTAMPTZ');
    expect(duckdbTypeFor('VARIANT')).toBe('VARCHAR');
  });
});
