// PySpark and SQL cells on a Databricks all-purpose cluster through Command Execution API 1.2, against its test server.
import { afterEach, describe, expect, it } from 'vitest';
import { DatabricksClusterEngine } from '../../src/engines/databricks-commands/cluster-engine.ts';
import { databricksStack, rowsOf, signal, step, until } from './harness.ts';

let stack: Awaited<ReturnType<typeof databricksStack>> | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const A = step('a', 'sql', 'SELECT o.id, o.amount, c.region FROM orders o JOIN customers c ON c.id = o.customer_id');
const P = step(
  'p',
  'pyspark',
  [
    'from pyspark.sql import functions as F',
    'banded = a.withColumn("band", F.expr("CASE WHEN amount > 250 THEN \'high\' ELSE \'low\' END"))',
    'banded.groupBy("region", "band").agg(F.count("*").alias("n"), F.max("amount").alias("top"))',
  ].join('\n'),
);
const S = step('s', 'sql', "SELECT region, band, n, top FROM p WHERE band = 'high' ORDER BY region");

describe('Databricks Command Execution engine', () => {
  it('[S1][S4][S5] runs a PySpark cell in the notebook context and feeds a downstream SQL cell', async () => {
    stack = await databricksStack({ contextBootMs: 60 });
    const { engine, server } = stack;
    const out = await engine.runCells({ notebookId: 'nb1', steps: [A, P, S], signal: signal() });
    expect(out.columns).toEqual([
      { name: 'region', type: 'STRING' },
      { name: 'band', type: 'STRING' },
      { name: 'n', type: 'BIGINT' },
      { name: 'top', type: 'BIGINT' },
    ]);
    const rows = await rowsOf(out);
    const expected = new Map<string, { n: number; top: number }>();
    const direct = await engine.execute({
      sql: 'SELECT c.region, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount > 250',
      signal: signal(),
      resultPath: '',
    });
    for (const [region, amount] of await rowsOf(direct)) {
      const e = expected.get(region as string) ?? { n: 0, top: 0 };
      expected.set(region as string, { n: e.n + 1, top: Math.max(e.top, amount as number) });
    }
    expect(rows).toEqual(
      [...expected.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([r, e]) => [r, 'high', e.n, e.top]),
    );
    // One Python context for the notebook's cells (plus one for ad-hoc queries), every step sent as Python.
    const nbContexts = [...server.contexts.values()].filter((c) =>
      server.commands(c.id).some((x) => x.includes('`s`')),
    );
    expect(nbContexts).toHaveLength(1);
    expect(nbContexts[0].language).toBe('python');
    const cmds = server.commands(nbContexts[0].id);
    expect(cmds).toHaveLength(4);
    expect(cmds[3]).toBe('display(spark.table("s"))');

    // The context is reused, and the views it holds are not recomputed.
    await engine.runCells({
      notebookId: 'nb1',
      steps: [A, P, step('t', 'sql', 'SELECT count(*) AS k FROM p')],
      signal: signal(),
    });
    expect(server.commands(nbContexts[0].id)).toHaveLength(6);
    const view = await engine.sessions();
    expect(view.type).toBe('databricks-cluster');
    expect(view.sessions.find((s) => s.notebookId === 'nb1')).toMatchObject({ kind: 'python', phase: 'idle' });
  });

  it('[S6] puts a Python exception (Finished with resultType error) on the cell with its traceback', async () => {
    stack = await databricksStack();
    const bad = step('bad', 'pyspark', 'df = a.select("id")\ndf.nope()');
    const err = await stack.engine.runCells({ notebookId: 'nb1', steps: [A, bad], signal: signal() }).catch((e) => e);
    expect(err).toMatchObject({ code: 'sql_error', cellId: 'c_bad', line: 2, ename: 'AttributeError' });
    expect(err.evalue).toBe("'DataFrame' object has no attribute 'nope'");
    expect(err.traceback.join('')).toContain('File "<cell bad>", line 2');
  });

  it('[S10] says so when display() cut a result short at 1000 rows', async () => {
    stack = await databricksStack();
    const progress: string[] = [];
    const out = await stack.engine.runCells({
      notebookId: 'nb1',
      steps: [step('big', 'pyspark', 'spark.range(1500)')],
      signal: signal(),
      onProgress: (p) => p.message && progress.push(p.message),
    });
    expect(await rowsOf(out)).toHaveLength(1000);
    expect(progress).toContain("Showing the first 1000 of 1500 rows: Databricks' display() returns at most 1000 rows.");
  });

  it('[S7] cancels a running command', async () => {
    stack = await databricksStack({ commandDurationMs: (cmd) => (cmd.includes('slow') ? 20_000 : 0) });
    const { engine, server } = stack;
    const ctl = new AbortController();
    const run = engine.runCells({
      notebookId: 'nb1',
      steps: [step('slow', 'sql', 'SELECT 1 AS x')],
      signal: ctl.signal,
    });
    await until('the command to run', () =>
      [...server.contexts.values()].some((c) => c.commands.some((x) => x.status === 'Running')),
    );
    ctl.abort();
    expect(await run.catch((e) => e)).toMatchObject({ code: 'cancelled' });
    const cmd = [...server.contexts.values()].flatMap((c) => c.commands).find((x) => x.command.includes('slow'))!;
    expect(cmd.status).toBe('Cancelled');
  });

  it('[S8] reports the cells of a lost context as stale and recovers in a new context', async () => {
    stack = await databricksStack();
    const { engine, server, lost } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [A, P], signal: signal() });
    const [ctx] = [...server.contexts.keys()];
    server.loseContext(ctx);
    const rows = await rowsOf(await engine.runCells({ notebookId: 'nb1', steps: [A, P, S], signal: signal() }));
    expect(rows.length).toBeGreaterThan(0);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ engine: 'cluster', notebookId: 'nb1', kind: 'python', sessionId: ctx });
    expect(lost[0].cellIds.sort()).toEqual(['c_a', 'c_p']);
    expect(server.contexts.size).toBe(1);
  });

  it('[S11] destroys its contexts on shutdown', async () => {
    stack = await databricksStack();
    await stack.engine.runCells({ notebookId: 'nb1', steps: [A], signal: signal() });
    await stack.engine.runCells({ notebookId: 'nb2', steps: [A], signal: signal() });
    expect(stack.server.contexts.size).toBe(2);
    await stack.engine.releaseNotebook('nb2');
    expect(stack.server.contexts.size).toBe(1);
    await stack.engine.close();
    expect(stack.server.contexts.size).toBe(0);
  });

  it('reports a bad token as unauthorized', async () => {
    stack = await databricksStack();
    const engine = new DatabricksClusterEngine({
      type: 'databricks-cluster',
      name: 'wrong',
      host: stack.server.url,
      token: 'dapi-wrong',
      clusterId: '0101-120000-pipebook',
      healthCheckMs: 0,
    });
    const err = await engine.execute({ sql: 'SELECT 1', signal: signal(), resultPath: '' }).catch((e) => e);
    await engine.close();
    expect(err).toMatchObject({ code: 'unauthorized' });
  });
});
