// The engine contract: every engine runs the same compiled notebooks and must return the same rows, convert every
// common type, report SQL errors at the right cell and line, and stop when cancelled. Remote engines also go through
// their protocol's failure paths against their test servers. Engines are listed in targets.ts.
import { type CellSnapshot, demoNotebookFile, PipebookError } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import { mapPosition } from '@pipebook/shared/compile/source-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBWarehouse } from '../../src/engines/duckdb.ts';
import type { EngineProgress } from '../../src/engines/engine.ts';
import { canon, canonRows, resultPathIn, runToRows, sqlCell, streamValues, tableCell, waitFor } from './rows.ts';
import { CONTRACT_TARGETS, REMOTE_TARGETS, type StartedEngine } from './targets.ts';
import { warehouseSetupSql } from './warehouse.ts';

const demoCells = demoNotebookFile().cells as CellSnapshot[];
const DEMO_RELATIONS: Array<{ id: string; ordered: boolean }> = [
  { id: 'demo_orders', ordered: false },
  { id: 'demo_customers', ordered: false },
  { id: 'demo_orders_clean', ordered: false },
  { id: 'demo_orders_customers', ordered: false },
  { id: 'demo_revenue_by_country', ordered: false },
  { id: 'demo_top_countries', ordered: true },
];

const typeCells = [
  tableCell('t_all', 'all_types'),
  sqlCell('t_typed', 'typed', 'SELECT *\nFROM all_types\nORDER BY id'),
];
const errorCells = [...demoCells, sqlCell('bad_cell', 'bad', 'SELECT order_id,\n  amountt AS a\nFROM orders_clean')];
const numberCells = [
  tableCell('n_src', 'numbers'),
  sqlCell('n_sorted', 'sorted', 'SELECT id, bucket, label\nFROM numbers\nORDER BY id'),
];

// Expected canonical values of all_types (see warehouse.ts), column by column.
const EXPECTED_TYPES = [
  [
    '1',
    '7',
    '9007199254740993',
    '12345.678',
    '3.25',
    'héllo, "world"',
    'true',
    '2024-02-29T00:00:00.000Z',
    '13:45:30.125',
    '2024-02-29T13:45:30.125Z',
    '2024-02-29T13:45:30.125Z',
    'deadbeef',
  ],
  [
    '2',
    '-3',
    '-42',
    '-0.5',
    '-0.001',
    '',
    'false',
    '1969-07-20T00:00:00.000Z',
    '00:00:00',
    '1969-07-20T20:17:40.000Z',
    '1969-07-20T20:17:40.000Z',
    '',
  ],
  ['3', null, null, null, null, null, null, null, null, null, null, null],
];

/** Reference rows: the DuckDB-dialect compilation run directly on a plain DuckDB holding the same tables. */
let reference: DuckDBWarehouse;
beforeAll(async () => {
  reference = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [] });
  await reference.run(warehouseSetupSql());
});
afterAll(async () => {
  await reference?.close();
});

async function referenceRows(cellId: string, ordered: boolean) {
  const { sql } = compileCell(demoCells, cellId as CellSnapshot['id'], 'duckdb');
  const r = await reference.readAll(sql);
  return { columns: r.columns.map((c) => c.name.toLowerCase()), rows: canonRows(r.rowsJs, ordered) };
}

describe.each(CONTRACT_TARGETS)('engine contract: $name', (target) => {
  let s: StartedEngine;
  beforeAll(async () => {
    s = await target.start();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('runs every cell of the demo notebook and returns the reference rows', async () => {
    for (const { id, ordered } of DEMO_RELATIONS) {
      const { sql } = compileCell(demoCells, id as CellSnapshot['id'], target.dialect);
      const got = await runToRows(s, sql);
      const want = await referenceRows(id, ordered);
      expect(got.columns, id).toEqual(want.columns);
      expect(got.rows.length, id).toBeGreaterThan(0);
      expect(canonRows(got.rows, ordered), id).toEqual(want.rows);
    }
  });

  it('writes the demo target table and reports its row count', async () => {
    const compiled = compileCell(demoCells, 'demo_report' as CellSnapshot['id'], target.dialect);
    expect(compiled.target?.type).toBe('table');
    const t = compiled.target as { table: string; mode: 'replace' | 'append' };
    expect(s.engine.writeTarget).toBeDefined();
    const out = await s.engine.writeTarget!({
      sql: compiled.sql,
      target: { type: 'table', table: t.table, mode: t.mode },
      signal: new AbortController().signal,
    });
    const countries = await referenceRows('demo_revenue_by_country', false);
    expect(out.rowCount).toBe(countries.rows.length);
    const back = await runToRows(
      s,
      `SELECT COUNT(*) AS n FROM ${target.dialect === 'databricks' ? '`revenue_by_country_report`' : 'revenue_by_country_report'}`,
    );
    expect(canon(back.rows[0][0])).toBe(String(countries.rows.length));
  });

  it('converts every common type', async () => {
    const { sql } = compileCell(typeCells, 't_typed' as CellSnapshot['id'], target.dialect);
    const resultPath = resultPathIn(s);
    const { outcome, rows } = await streamValues(s.engine, sql, resultPath);
    expect(outcome.columns.map((c) => c.name.toLowerCase())).toEqual([
      'id',
      'small_int',
      'big_int',
      'dec',
      'dbl',
      'txt',
      'flag',
      'day',
      'tod',
      'ts',
      'tstz',
      'bin',
    ]);
    for (const c of outcome.columns) expect(c.type).toBeTruthy();
    let got: (string | null)[][];
    if (outcome.type === 'stream') got = rows.map((r) => r.map(canon));
    else {
      // Read back from the Parquet result. DuckDB's JS form of TIME is microseconds; take its text form instead.
      const back = await s.kernelWarehouse.readAll(`SELECT * FROM read_parquet('${resultPath}')`);
      got = back.rowsJs.map((r, i) => r.map((v, j) => (j === 8 ? canon(back.rowsJson[i][j]) : canon(v))));
    }
    expect(got).toEqual(EXPECTED_TYPES);
  });

  it('reports a SQL error at the cell and line the user wrote it', async () => {
    const compiled = compileCell(errorCells, 'bad_cell' as CellSnapshot['id'], target.dialect);
    const err = await s.engine
      .execute({ sql: compiled.sql, signal: new AbortController().signal, resultPath: resultPathIn(s) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PipebookError);
    const pe = err as PipebookError;
    expect(pe.code).toBe('sql_error');
    expect(pe.message.toLowerCase()).toContain('amountt');
    expect(pe.line).toBeDefined();
    const at = mapPosition(compiled.sourceMap, pe.line!, pe.column ?? 1);
    expect(at).toMatchObject({ cellId: 'bad_cell', line: 2, column: 3, generated: false });
  });

  it('stops a running statement when cancelled', async () => {
    s.remote?.slow('pipebook_slow_marker', 30_000);
    const ac = new AbortController();
    const progress: EngineProgress[] = [];
    const started = Date.now();
    const run = s.engine.execute({
      sql: s.slowSql(),
      signal: ac.signal,
      resultPath: resultPathIn(s),
      onProgress: (p) => {
        progress.push(p);
      },
    });
    const settled = run.then(
      () => 'finished',
      (e: unknown) => e,
    );
    if (s.remote) {
      // Cancel once the server has the statement in flight.
      await waitFor('statement running remotely', () =>
        /running|queued|pending/i.test(s.remote!.lastStatementState() ?? ''),
      );
    } else {
      await waitFor('DuckDB progress or a moment of work', () => progress.length > 0 || Date.now() - started > 300);
    }
    ac.abort();
    const outcome = await settled;
    expect(outcome).toBeInstanceOf(PipebookError);
    expect((outcome as PipebookError).code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
    if (s.remote) {
      await waitFor('remote statement cancelled', () => /cancel/i.test(s.remote!.lastStatementState() ?? ''));
      s.remote.slow('pipebook_slow_marker', 0);
    }
  });

  it('validates SQL and lists the catalog', async () => {
    const { sql } = compileCell(demoCells, 'demo_orders_clean' as CellSnapshot['id'], target.dialect);
    const cols = await s.engine.validate(sql);
    expect(cols.map((c) => c.name.toLowerCase())).toEqual(['order_id', 'customer_id', 'order_date', 'amount']);
    const catalog = await s.engine.catalog();
    const orders = catalog.find((t) => t.name.toLowerCase() === 'orders');
    expect(orders?.columns.map((c) => c.name.toLowerCase())).toContain('amount');
  });
});

describe.each(REMOTE_TARGETS)('remote protocol: $name', (target) => {
  let s: StartedEngine;
  beforeAll(async () => {
    s = await target.start();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('polls a long statement to completion and reports its state', async () => {
    const hooks = s.remote!;
    hooks.slow('pipebook_long', 1200);
    const pollsBefore = hooks.polls();
    const states: string[] = [];
    const outcome = await s.engine.execute({
      sql: "SELECT 42 AS answer, 'pipebook_long' AS tag",
      signal: new AbortController().signal,
      resultPath: resultPathIn(s),
      onProgress: (p) => {
        if (p.state) states.push(p.state);
      },
    });
    const rows: unknown[][] = [];
    if (outcome.type === 'stream') for await (const b of outcome.batches) rows.push(...b);
    expect(rows.map((r) => r.map(canon))).toEqual([['42', 'pipebook_long']]);
    expect(hooks.polls() - pollsBefore).toBeGreaterThanOrEqual(2);
    expect(states.some((x) => /running|pending/i.test(x))).toBe(true);
    hooks.slow('pipebook_long', 0);
  });

  it('reads a result spread over many partitions or chunks, in order', async () => {
    const hooks = s.remote!;
    hooks.pageRows(1500);
    const before = hooks.pageFetches();
    const { sql } = compileCell(numberCells, 'n_sorted' as CellSnapshot['id'], target.dialect);
    const progress: number[] = [];
    const resultPath = resultPathIn(s);
    const outcome = await s.engine.execute({
      sql,
      signal: new AbortController().signal,
      resultPath,
      onProgress: (p) => {
        if (p.rows !== undefined) progress.push(p.rows);
      },
    });
    const ids: number[] = [];
    if (outcome.type === 'stream') for await (const b of outcome.batches) for (const r of b) ids.push(Number(r[0]));
    expect(ids.length).toBe(20_000);
    expect(ids.every((id, i) => id === i)).toBe(true);
    expect(hooks.pageFetches() - before).toBeGreaterThanOrEqual(13);
    // Rows are reported as they page in.
    expect(progress.length).toBeGreaterThanOrEqual(14);
    expect(progress[progress.length - 1]).toBe(20_000);
    hooks.pageRows(10_000);
  });

  it('retries a 429 and succeeds without running the statement twice', async () => {
    const hooks = s.remote!;
    hooks.refuseNextSubmit(429);
    const execBefore = hooks.executions();
    const reqBefore = hooks.requests().length;
    const got = await runToRows(s, "SELECT 'after 429' AS msg");
    expect(got.rows.map((r) => r.map(canon))).toEqual([['after 429']]);
    const reqs = hooks.requests().slice(reqBefore);
    expect(reqs.findIndex((r) => / 429$/.test(r))).toBe(0);
    expect(reqs.slice(1).some((r) => /^POST .* 20\d$/.test(r))).toBe(true);
    expect(hooks.executions() - execBefore).toBe(1);
  });

  it('renews an expired credential', async () => {
    const hooks = s.remote!;
    await runToRows(s, 'SELECT 1 AS one');
    const minted = hooks.credentialsMinted();
    expect(minted).toBeGreaterThanOrEqual(1);
    hooks.expireCredentials();
    const got = await runToRows(s, 'SELECT 2 AS two');
    expect(got.rows.map((r) => r.map(canon))).toEqual([['2']]);
    expect(hooks.credentialsMinted()).toBe(minted + 1);
  });
});
