import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine, DuckDBWarehouse, parseDuckDBError } from './duckdb.ts';

let dir: string;
let wh: DuckDBWarehouse;
let engine: DuckDBEngine;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-duckdb-'));
  fs.mkdirSync(path.join(dir, 'results'));
  fs.mkdirSync(path.join(dir, 'data'));
  wh = await DuckDBWarehouse.open({
    path: path.join(dir, 'w.duckdb'),
    allowedDirectories: [path.join(dir, 'results'), path.join(dir, 'data')],
  });
  engine = new DuckDBEngine(wh);
});
afterAll(async () => {
  await wh.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const resultPath = (name: string) => path.join(dir, 'results', `${name}.parquet`);

describe('DuckDBEngine', () => {
  it('writes a result straight to Parquet and reports its rows and column types', async () => {
    const out = await engine.execute({
      sql: 'SELECT range AS n, range::VARCHAR AS s FROM range(1000);',
      signal: new AbortController().signal,
      resultPath: resultPath('a'),
    });
    expect(out).toEqual({
      type: 'materialized',
      rowCount: 1000,
      columns: [
        { name: 'n', type: 'BIGINT' },
        { name: 's', type: 'VARCHAR' },
      ],
    });
    const r = await wh.readAll(`SELECT sum(n) FROM read_parquet('${resultPath('a')}')`);
    expect(Number(r.rowsJs[0][0])).toBe(499500);
  });

  it('[R9] reports SQL errors at the line and column of the SQL it was given', async () => {
    const err = await engine
      .execute({
        sql: 'SELECT 1 AS a,\n       missing_col\nFROM range(1)',
        signal: new AbortController().signal,
        resultPath: resultPath('b'),
      })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'sql_error', line: 2, column: 8 });
    expect(err.message).toMatch(/missing_col/);
    expect(fs.existsSync(resultPath('b'))).toBe(false);
  });

  it('[R10] cancel interrupts only the cancelled query, quickly', async () => {
    const slow = 'SELECT count(*) FROM range(100000000000) t WHERE (t.range * 7) % 13 = 1';
    const ac = new AbortController();
    const running = engine.execute({ sql: slow, signal: ac.signal, resultPath: resultPath('slow') }).catch((e) => e);
    const other = engine.execute({
      sql: 'SELECT 42 AS v',
      signal: new AbortController().signal,
      resultPath: resultPath('other'),
    });
    expect(await other).toMatchObject({ rowCount: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    ac.abort();
    const err = await running;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toMatchObject({ code: 'cancelled' });
    // The pool still works after an interrupt.
    expect((await wh.readAll('SELECT 1 AS one')).rowsJs).toEqual([[1]]);
  });

  it('reports progress while a scan runs, and keeps reporting it after a cancel reuses the connection', async () => {
    // One progress-reporting connection, so the second run gets the one the first run's cancel interrupted.
    const one = await DuckDBWarehouse.open({
      path: ':memory:',
      allowedDirectories: [path.join(dir, 'results'), path.join(dir, 'data')],
      poolSize: 1,
    });
    const e1 = new DuckDBEngine(one);
    try {
      await e1.execute({
        sql: 'SELECT range AS i FROM range(3000000)',
        signal: new AbortController().signal,
        resultPath: resultPath('big'),
      });
      // A scan of a stored result, multiplied far beyond what the test waits for (range() alone reports no progress).
      const slow = `SELECT sum(hash(a.i * b.j)) FROM read_parquet('${resultPath('big')}') a, (SELECT i AS j FROM read_parquet('${resultPath('big')}') LIMIT 5000) b`;
      for (const round of [1, 2]) {
        const ac = new AbortController();
        const seen: number[] = [];
        let reported!: () => void;
        const firstReport = new Promise<void>((resolve) => {
          reported = resolve;
        });
        const running = e1
          .execute({
            sql: slow,
            signal: ac.signal,
            resultPath: resultPath(`slow${round}`),
            onProgress: (p) => {
              if (p.fraction !== undefined) seen.push(p.fraction);
              reported();
            },
          })
          .catch((e) => e);
        await firstReport;
        ac.abort();
        expect(await running).toMatchObject({ code: 'cancelled' });
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.every((f) => f >= 0 && f <= 1)).toBe(true);
      }
      expect((await one.readAll('SELECT 1 AS one')).rowsJs).toEqual([[1]]);
    } finally {
      await one.close();
    }
  });

  it('[R13] refuses files outside its allowed folders, and the setting cannot be changed from SQL', async () => {
    const err = await engine
      .execute({
        sql: "SELECT * FROM read_csv('/etc/passwd')",
        signal: new AbortController().signal,
        resultPath: resultPath('p'),
      })
      .catch((e) => e);
    expect(err.code).toBe('sql_error');
    const unlock = await wh.run('SET enable_external_access = true').catch((e) => e);
    expect(String(unlock)).toMatch(/locked/);
  });

  it('writes table targets (replace and append) and file targets', async () => {
    const signal = new AbortController().signal;
    await engine.writeTarget({
      sql: 'SELECT range AS id FROM range(3)',
      target: { type: 'table', schema: 'reports', table: 't', mode: 'replace' },
      signal,
    });
    const appended = await engine.writeTarget({
      sql: 'SELECT range + 10 AS id FROM range(2)',
      target: { type: 'table', schema: 'reports', table: 't', mode: 'append' },
      signal,
    });
    expect(appended.rowCount).toBe(2);
    const rows = await wh.readAll('SELECT id FROM reports.t ORDER BY id');
    expect(rows.rowsJs.map((r) => Number(r[0]))).toEqual([0, 1, 2, 10, 11]);
    const file = path.join(dir, 'data', 'out.csv');
    const written = await engine.writeTarget({
      sql: 'SELECT 1 AS a',
      target: { type: 'file', path: file, format: 'csv' },
      signal,
    });
    expect(written.rowCount).toBe(1);
    expect(fs.readFileSync(file, 'utf8')).toBe('a\n1\n');
  });

  it('lists tables and columns with their types', async () => {
    const tables = await engine.catalog();
    expect(tables.find((t) => t.schema === 'reports' && t.name === 't')?.columns).toEqual([
      { name: 'id', type: 'BIGINT' },
    ]);
  });
});

describe('parseDuckDBError', () => {
  it('takes the position from the LINE block and strips it from the message', () => {
    const msg =
      'Binder Error: Referenced column "x" not found in FROM clause!\n\nLINE 2: SELECT x FROM t\n               ^';
    expect(parseDuckDBError(msg, 'WITH a AS (SELECT 1)\nSELECT x FROM t')).toEqual({
      message: 'Binder Error: Referenced column "x" not found in FROM clause!',
      line: 2,
      column: 8,
    });
    expect(parseDuckDBError('Parser Error: syntax error at end of input', 'SELECT')).toEqual({
      message: 'Parser Error: syntax error at end of input',
    });
  });

  it('finds the column when DuckDB shortened a long line', () => {
    const line = `SELECT ${'a, '.repeat(60)}missing FROM t`;
    const at = line.indexOf('missing');
    const shown = `...${line.slice(at - 20, at + 20)}...`;
    const msg = `Binder Error: x\n\nLINE 1: ${shown}\n${' '.repeat('LINE 1: '.length + 3 + 20)}^`;
    expect(parseDuckDBError(msg, line)).toMatchObject({ line: 1, column: at + 1 });
  });
});
