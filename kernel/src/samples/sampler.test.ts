import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CellSnapshot } from '@pipebook/shared';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine, DuckDBWarehouse } from '../engines/duckdb.ts';
import { pageToArrow } from '../results/pager.ts';
import {
  columnarToArrow,
  readColumnar,
  type SampleOptions,
  sampleLimits,
  sampleOptions,
  sampleSource,
} from './sampler.ts';

let dir: string;
let wh: DuckDBWarehouse;
let engine: DuckDBEngine;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-samples-'));
  fs.mkdirSync(path.join(dir, 'results'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'people.csv'), 'id,name\n1,Ada\n2,Grace\n3,Edsger\n');
  wh = await DuckDBWarehouse.open({
    path: path.join(dir, 'w.duckdb'),
    allowedDirectories: [path.join(dir, 'results'), path.join(dir, 'data')],
  });
  await wh.run(
    `CREATE TABLE items AS SELECT range AS id, 'item ' || range AS label, (range % 100)::DECIMAL(10, 2) AS price FROM range(50000)`,
  );
  engine = new DuckDBEngine(wh);
});
afterAll(async () => {
  await wh.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cells = [
  { id: 'c_items', name: 'items', kind: 'source', source: '', config: { type: 'table', table: 'items' } },
  {
    id: 'c_people',
    name: 'people',
    kind: 'source',
    source: '',
    config: { type: 'file', path: 'people.csv', format: 'csv' },
  },
  { id: 'c_sql', name: 'cheap', kind: 'sql', source: 'SELECT * FROM items WHERE price < 5', config: {} },
] as unknown as CellSnapshot[];
const deps = () => ({
  warehouse: wh,
  dataDir: path.join(dir, 'data'),
  engineFor: () => engine,
  tempResultPath: () => path.join(dir, 'results', 'tmp.parquet'),
});
const opts = (o: Partial<SampleOptions> = {}): SampleOptions => ({
  rows: 1000,
  maxBytes: 5 * 1024 * 1024,
  mode: 'first',
  seed: 42,
  ...o,
});

describe('source samples', () => {
  it('keeps the first N rows of a table source as Arrow, with the engine column types', async () => {
    const s = await sampleSource(deps(), cells, 'c_items', opts({ rows: 1000 }));
    expect(s.rowCount).toBe(1000);
    expect(s.truncated).toBe(true);
    expect(s.cappedByBytes).toBe(false);
    expect(s.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'label', type: 'VARCHAR' },
      { name: 'price', type: 'DECIMAL(10,2)' },
    ]);
    const t = tableFromIPC(s.arrow);
    expect(t.numRows).toBe(1000);
    expect(t.getChild('label')?.get(0)).toBe('item 0');
  });

  it('a seeded random sample gives the same rows for the same seed and other rows for another', async () => {
    const ids = async (seed: number) =>
      Array.from(
        tableFromIPC((await sampleSource(deps(), cells, 'c_items', opts({ rows: 200, mode: 'random', seed }))).arrow)
          .getChild('id')!
          .toArray() as BigInt64Array,
        Number,
      ).sort((a: number, b: number) => a - b);
    const s = await sampleSource(deps(), cells, 'c_items', opts({ rows: 200, mode: 'random', seed: 7 }));
    expect(s).toMatchObject({ rowCount: 200, truncated: true, mode: 'random' });
    const a = await ids(7);
    expect(a).toHaveLength(200);
    expect(await ids(7)).toEqual(a);
    expect(await ids(8)).not.toEqual(a);
    // Not simply the first rows.
    expect(a[a.length - 1]).toBeGreaterThan(200);
  });

  it('keeps fewer rows when the Arrow stream would exceed the byte cap', async () => {
    const s = await sampleSource(deps(), cells, 'c_items', opts({ rows: 50_000, maxBytes: 100_000 }));
    expect(s.arrow.byteLength).toBeLessThanOrEqual(100_000);
    expect(s.rowCount).toBeGreaterThan(1000);
    expect(s.rowCount).toBeLessThan(50_000);
    expect(s.cappedByBytes).toBe(true);
    expect(tableFromIPC(s.arrow).numRows).toBe(s.rowCount);
  });

  it('reads file sources from the data folder and says when the whole source fits', async () => {
    const s = await sampleSource(deps(), cells, 'c_people', opts());
    expect(s.rowCount).toBe(3);
    expect(s.truncated).toBe(false);
    expect(tableFromIPC(s.arrow).getChild('name')?.toArray()).toEqual(['Ada', 'Grace', 'Edsger']);
  });

  it('refuses cells that are not sources, and unknown cells', async () => {
    await expect(sampleSource(deps(), cells, 'c_sql', opts())).rejects.toMatchObject({ code: 'bad_request' });
    await expect(sampleSource(deps(), cells, 'c_nope', opts())).rejects.toMatchObject({ code: 'not_found' });
  });

  it('encodes columns exactly as result pages are encoded, nulls and every type family included', async () => {
    const sql = `SELECT * FROM (VALUES
      (1::TINYINT, 2::INTEGER, 3::BIGINT, 4::UINTEGER, 1.5::DOUBLE, 2.25::DECIMAL(10, 2), true, DATE '2024-02-29',
       TIMESTAMP '2024-01-01 10:00:00', 'a', 99::HUGEINT, [1, 2], {'k': 1}),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (-1::TINYINT, -2::INTEGER, 9007199254740993::BIGINT, 0::UINTEGER, -0.5::DOUBLE, -1.10::DECIMAL(10, 2), false,
       DATE '1970-01-01', TIMESTAMP '1999-12-31 23:59:59.123', '', 1::HUGEINT, [], {'k': NULL})
    ) AS t(ti, i, b, ui, d, dec, bo, dt, ts, s, h, l, st)`;
    const ours = tableFromIPC(columnarToArrow(await readColumnar(wh, sql), 3));
    const pages = tableFromIPC(pageToArrow(await wh.readAll(sql)));
    expect(ours.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(
      pages.schema.fields.map((f) => `${f.name}:${f.type}`),
    );
    const rows = (t: typeof ours) =>
      t.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    expect(rows(ours)).toEqual(rows(pages));
    // Numeric columns without nulls take the typed-array path; the same values come out.
    const noNulls = `SELECT range::INTEGER AS i, range AS b, range / 4 AS d FROM range(5)`;
    const a = tableFromIPC(columnarToArrow(await readColumnar(wh, noNulls), 5));
    const b = tableFromIPC(pageToArrow(await wh.readAll(noNulls)));
    expect(rows(a)).toEqual(rows(b));
    expect(a.schema.fields.map((f) => String(f.type))).toEqual(b.schema.fields.map((f) => String(f.type)));
  });

  it('takes defaults from the environment and bounds what a request may ask', () => {
    const limits = sampleLimits({ PIPEBOOK_SAMPLE_ROWS: '500', PIPEBOOK_SAMPLE_MAX_ROWS: '2000' });
    expect(sampleOptions({}, limits)).toEqual({ rows: 500, maxBytes: 5 * 1024 * 1024, mode: 'first', seed: 42 });
    expect(sampleOptions({ rows: '1500', mode: 'random', seed: '3' }, limits)).toMatchObject({ rows: 1500, seed: 3 });
    expect(() => sampleOptions({ rows: '2001' }, limits)).toThrow(/at most 2000/);
    expect(() => sampleOptions({ mode: 'all' }, limits)).toThrow(/mode/);
    expect(() => sampleOptions({ rows: '-1' }, limits)).toThrow(/positive/);
  });
});
