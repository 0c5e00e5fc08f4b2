// Chains of cells on Livy: temp-view reuse, session death and engine-aware staleness, PySpark cells feeding SQL,
// user-code errors, and Livy SQL answering with the same rows as DuckDB.
import { DuckDBInstance } from '@duckdb/node-api';
import {
  addCell,
  type CellId,
  initNotebook,
  type RunSummary,
  readRuns,
  setRuns,
  type TxOrigin,
} from '@pipebook/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { markSessionLossStale } from '../../src/engines/livy/staleness.ts';
import { livyStack, rowsOf, SEED_SQL, signal, step, until } from './harness.ts';

let stack: Awaited<ReturnType<typeof livyStack>> | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

let duck: DuckDBInstance;
beforeAll(async () => {
  duck = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con = await duck.connect();
  for (const sql of SEED_SQL) await con.run(sql);
  con.closeSync();
});
afterAll(() => duck.closeSync());

/** Rows straight from DuckDB, numbers normalised the way Livy's JSON carries them. */
async function duckRows(sql: string): Promise<unknown[][]> {
  const con = await duck.connect();
  try {
    const rows = (await con.runAndReadAll(sql)).getRowsJson() as unknown[][];
    return rows.map((r) => r.map((v) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v)));
  } finally {
    con.closeSync();
  }
}

const A = step('a', 'sql', 'SELECT o.id, o.amount, c.region FROM orders o JOIN customers c ON c.id = o.customer_id');
const B = step('b', 'sql', 'SELECT region, count(*) AS n FROM a WHERE amount > 100 GROUP BY region');
const C = step('c', 'sql', 'SELECT region, n * 2 AS doubled FROM b ORDER BY region -- slow');

const materialized = (codes: string[], name: string) =>
  codes.filter((c) => c.includes(`TEMP VIEW \`${name}\``) || c.includes(`createOrReplaceTempView("${name}")`)).length;

describe('Livy chains', () => {
  it('[S4] turns upstream cells into temp views and does not recompute what the session holds', async () => {
    stack = await livyStack();
    const { engine, livy } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [A, B], signal: signal() });
    const rows = await rowsOf(await engine.runCells({ notebookId: 'nb1', steps: [A, B, C], signal: signal() }));
    expect(rows).toEqual(
      (await duckRows(
        'SELECT c.region, count(*) * 2 FROM orders o JOIN customers c ON c.id = o.customer_id WHERE amount > 100 GROUP BY 1 ORDER BY 1',
      )) as unknown[][],
    );
    const codes = livy.statementCodes(0);
    expect(materialized(codes, 'a')).toBe(1);
    expect(materialized(codes, 'b')).toBe(1); // as the first run's target; the second run reuses its view
    expect(materialized(codes, 'c')).toBe(1);
    // A changed input hash is recomputed.
    await engine.runCells({ notebookId: 'nb1', steps: [{ ...A, inputHash: 'a:2' }, B], signal: signal() });
    expect(materialized(livy.statementCodes(0), 'a')).toBe(2);
  });

  it('[S8][S9] when a session dies mid-chain, reports exactly the cells it held, marks them stale and recovers', async () => {
    let slow = true; // only the first session is slow, so the recovery run is quick
    stack = await livyStack({ statementDurationMs: (code) => (slow && code.includes('-- slow') ? 10_000 : 0) });
    const { engine, livy, lost } = stack;
    const P = step('p', 'pyspark', 'a.filter("amount > 10")');
    const X = step('x', 'sql', 'SELECT 1 AS one');
    await engine.runCells({ notebookId: 'nb1', steps: [A, B], signal: signal() }); // sql session 0 holds a, b
    await engine.runCells({ notebookId: 'nb1', steps: [A, P], signal: signal() }); // pyspark session 1 holds a, p
    await engine.runCells({ notebookId: 'nb2', steps: [X], signal: signal() }); // another notebook, session 2
    const before = new Map([1, 2].map((id) => [id, livy.statementCodes(id).length]));

    const run = engine.runCells({ notebookId: 'nb1', steps: [A, B, C], signal: signal() });
    await until('c to run in session 0', () =>
      livy.sessions.get(0)!.statements.some((s) => s.code.includes('`c`') && s.state === 'running'),
    );
    slow = false;
    livy.kill(0);
    const rows = await rowsOf(await run);
    expect(rows.length).toBeGreaterThan(0);

    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ engine: 'spark', notebookId: 'nb1', kind: 'sql', sessionId: '0' });
    expect(lost[0].cellIds.sort()).toEqual(['c_a', 'c_b']);
    expect(lost[0].reason).toBe('Livy session 0 is dead.');

    // The chain was recomputed in a new session; the other sessions were not touched.
    const fresh = [...livy.sessions.values()].find((s) => s.id > 2)!;
    expect(fresh.kind).toBe('sql');
    for (const name of ['a', 'b', 'c']) expect(materialized(livy.statementCodes(fresh.id), name)).toBe(1);
    for (const [id, n] of before) expect(livy.statementCodes(id).length).toBe(n);
    const view = await engine.sessions();
    const nb1sql = view.sessions.find((s) => s.notebookId === 'nb1' && s.kind === 'sql')!;
    expect(nb1sql).toMatchObject({ sessionId: String(fresh.id), phase: 'idle' });
    expect(nb1sql.cells.sort()).toEqual(['c_a', 'c_b', 'c_c']);

    // Engine-aware staleness in the shared document: exactly a and b, with the reason.
    const doc = new Y.Doc();
    initNotebook(doc);
    const origin: TxOrigin = { source: 'kernel' };
    const ids: Record<string, CellId> = {};
    for (const s of [A, B, C, P, X]) {
      ids[s.name] = addCell(doc, { id: s.cellId, name: s.name, kind: s.kind, source: s.code });
    }
    const done = (finishedAt: number): RunSummary => ({
      status: 'done',
      runId: 'run_1',
      engine: 'spark',
      by: { id: 'local', name: 'Local user' },
      finishedAt,
    });
    setRuns(
      doc,
      Object.values(ids).map((id) => [id, done(lost[0].at - 10)]),
      origin,
    );
    const marked = markSessionLossStale(doc, lost[0]);
    expect(marked.sort()).toEqual(['c_a', 'c_b']);
    const runs = readRuns(doc);
    expect(runs.c_a).toMatchObject({ status: 'stale', staleReason: 'Livy session 0 is dead.' });
    expect(runs.c_b).toMatchObject({ status: 'stale', staleReason: 'Livy session 0 is dead.' });
    for (const id of ['c_c', 'c_p', 'c_x']) expect(runs[id].status).toBe('done');
  });

  it('[S8][S11] notices a session that died between runs, and the next run starts a new one', async () => {
    stack = await livyStack();
    const { engine, livy, lost } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [A, B], signal: signal() });
    livy.kill(0, { state: 'killed', remove: true });
    await engine.checkSessions();
    expect(lost).toHaveLength(1);
    expect(lost[0].cellIds.sort()).toEqual(['c_a', 'c_b']);
    expect(lost[0].reason).toMatch(/no longer exists/);
    expect((await engine.sessions()).sessions[0]).toMatchObject({ phase: 'dead', cells: [] });
    const rows = await rowsOf(await engine.runCells({ notebookId: 'nb1', steps: [A, B], signal: signal() }));
    expect(rows.length).toBe(3);
    expect(livy.sessions.has(1)).toBe(true);
    expect(materialized(livy.statementCodes(1), 'a')).toBe(1);
    expect(lost).toHaveLength(1);
  });

  it('[S8] replaces a session that expired while idle (Livy ttl), reporting its cells', async () => {
    stack = await livyStack({}, { session: { ttl: '150ms' } });
    const { engine, livy, lost } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [A, B], signal: signal() });
    expect(livy.sessions.get(0)!.ttl).toBe('150ms');
    await until('Livy to expire the idle session', () => !livy.sessions.has(0));
    const rows = await rowsOf(await engine.runCells({ notebookId: 'nb1', steps: [A, B, C], signal: signal() }));
    expect(rows.length).toBe(3);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ sessionId: '0', reason: 'Livy session 0 no longer exists (expired or deleted).' });
    expect(lost[0].cellIds.sort()).toEqual(['c_a', 'c_b']);
    expect(materialized(livy.statementCodes(1), 'a')).toBe(1);
  });

  it('[S8] reports a death on its own when the periodic health check is on', async () => {
    stack = await livyStack({}, { healthCheckMs: 25 });
    const { engine, livy, lost } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [A, B], signal: signal() });
    expect(lost).toEqual([]);
    livy.kill(0, { state: 'error' });
    await until('the health check to report the death', () => lost.length === 1);
    expect(lost[0]).toMatchObject({ sessionId: '0', reason: 'Livy session 0 failed (state error).' });
    expect(lost[0].cellIds.sort()).toEqual(['c_a', 'c_b']);
  });

  it('[S5] runs a PySpark cell that reads upstream cells as DataFrames and feeds a downstream SQL cell', async () => {
    stack = await livyStack();
    const P = step(
      'p',
      'pyspark',
      [
        'from pyspark.sql import functions as F',
        'big = a.filter(F.col("amount") > 100)',
        'big.groupBy("region").agg(F.sum("amount").alias("total"), F.count("*").alias("n"))',
      ].join('\n'),
    );
    const S = step('s', 'sql', 'SELECT region, total, n FROM p ORDER BY region');
    const out = await stack.engine.runCells({ notebookId: 'nb1', steps: [A, P, S], signal: signal() });
    expect(out.columns.map((c) => c.name)).toEqual(['region', 'total', 'n']);
    expect(await rowsOf(out)).toEqual(
      await duckRows(
        'SELECT c.region, sum(o.amount), count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount > 100 GROUP BY 1 ORDER BY 1',
      ),
    );
    // The SQL target ran in the notebook's sql session, the PySpark step with statement kind pyspark.
    const session = stack.livy.sessions.get(0)!;
    expect(session.kind).toBe('sql');
    expect(session.statements.map((s) => s.kind)).toEqual(['sql', 'pyspark', 'sql', 'sql']);
  });

  it('[S6] puts a Python error on the cell with its traceback and line', async () => {
    stack = await livyStack();
    const P = step('p', 'pyspark', ['x = a.select("id")', 'y = x.limit(5)', 'undefined_frame.count()', 'y'].join('\n'));
    const err = await stack.engine.runCells({ notebookId: 'nb1', steps: [A, P], signal: signal() }).catch((e) => e);
    expect(err).toMatchObject({
      code: 'sql_error',
      cellId: 'c_p',
      line: 3,
      ename: 'NameError',
      evalue: "name 'undefined_frame' is not defined",
    });
    expect(err.traceback.join('')).toContain('File "<cell p>", line 3');
    expect(err.traceback.join('')).not.toContain('<stdin>');
    expect(err.message).toMatch(/^NameError: name 'undefined_frame' is not defined\nTraceback/);

    const missing = step('m', 'pyspark', 'spark.table("no_such_table")');
    const err2 = await stack.engine.runCells({ notebookId: 'nb1', steps: [missing], signal: signal() }).catch((e) => e);
    expect(err2).toMatchObject({ code: 'sql_error', cellId: 'c_m', line: 1, ename: 'AnalysisException' });

    const notDf = step('n', 'pyspark', 'x = 1\nx + 1');
    const err3 = await stack.engine.runCells({ notebookId: 'nb1', steps: [notDf], signal: signal() }).catch((e) => e);
    expect(err3).toMatchObject({ code: 'sql_error', ename: 'TypeError' });
    expect(err3.evalue).toMatch(/must end in a DataFrame expression, not int/);
  });

  it('[S10] says so when Livy cut a result short at livy.rsc.sql.num-rows, while downstream cells read the whole view', async () => {
    stack = await livyStack({ sqlNumRows: 50 }, { sqlNumRows: 50 });
    const progress: string[] = [];
    const all = step('all', 'sql', 'SELECT * FROM orders');
    const out = await stack.engine.runCells({
      notebookId: 'nb1',
      steps: [all],
      signal: signal(),
      onProgress: (p) => p.message && progress.push(p.message),
    });
    expect(await rowsOf(out)).toHaveLength(50);
    expect(progress).toContain(
      'Showing the first 50 of 300 rows: Livy returns at most livy.rsc.sql.num-rows rows per statement (raise it in livy.conf).',
    );
    const counted = step('counted', 'sql', 'SELECT count(*) AS n FROM `all`');
    expect(
      await rowsOf(await stack.engine.runCells({ notebookId: 'nb1', steps: [all, counted], signal: signal() })),
    ).toEqual([[300]]);
  });

  it('[S6] puts a Spark SQL error on the cell', async () => {
    stack = await livyStack();
    const bad = step('bad', 'sql', 'SELECT no_such_column FROM orders');
    const err = await stack.engine.runCells({ notebookId: 'nb1', steps: [A, bad], signal: signal() }).catch((e) => e);
    expect(err).toMatchObject({ code: 'sql_error', cellId: 'c_bad', ename: 'Error' });
    expect(err.evalue).toMatch(/no_such_column/);
  });
});

describe('Livy SQL engine contract', () => {
  const queries = [
    'SELECT id, name, region FROM customers ORDER BY id',
    'SELECT region, count(*) AS n, min(id) AS first_id FROM customers GROUP BY region ORDER BY region',
    "SELECT `id`, 'it''s' AS quoted, id * 1.5 AS ratio, id % 2 = 0 AS even FROM `orders` WHERE id <= 5 ORDER BY id",
    'SELECT * FROM orders WHERE 1 = 0',
  ];

  it('answers with the same rows and column names as DuckDB', async () => {
    stack = await livyStack();
    for (const sql of queries) {
      const out = await stack.engine.execute({ sql, signal: signal(), resultPath: '' });
      const expected = await duckRows(sql.replaceAll('`', '"'));
      expect(await rowsOf(out), sql).toEqual(expected);
    }
    const cols = await stack.engine.validate('SELECT id, name FROM customers');
    expect(cols).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'name', type: 'STRING' },
    ]);
    const catalog = await stack.engine.catalog();
    expect(catalog.map((t) => t.name)).toEqual(['customers', 'orders']);
    expect(catalog[0].columns.map((c) => c.name)).toEqual(['id', 'name', 'region']);
    expect(stack.engine.info).toMatchObject({ type: 'livy', dialect: 'databricks' });
  });
});
