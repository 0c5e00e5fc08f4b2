// End to end through the kernel: a notebook whose default engine is a Livy connection runs a source, a SQL cell, a
// PySpark cell and a SQL cell over the kernel API; a collaborator's replica shows every run. When the PySpark
// session dies, exactly the cells whose results lived in it turn stale for that collaborator, with the reason, and
// running the notebook again recomputes exactly those.
import { DuckDBInstance } from '@duckdb/node-api';
import { readRuns } from '@pipebook/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { LivyEngine } from '../../src/engines/livy/livy-engine.ts';
import { registerEngineFactory } from '../../src/engines/registry.ts';
import { type LivyTestServer, startLivyServer } from '../servers/livy/server.ts';
import {
  createNotebookFrom,
  finished,
  kernelApi,
  newClient,
  notebookFile,
  page,
  runToEnd,
  type TestClient,
  waitFor,
  withKernel,
} from '../stack.ts';
import { SEED_SQL } from './harness.ts';

let livy: LivyTestServer;
let client: TestClient | undefined;

const s = withKernel({
  demoOrders: 100,
  async before() {
    livy = await startLivyServer({ seedSql: SEED_SQL, csrf: true });
    // What a `type: livy` entry in pipebook.config.yaml gives the kernel (spark-connections.ts), minus the file.
    registerEngineFactory(() => [
      new LivyEngine({ type: 'livy', name: 'spark', url: livy.url, pollMaxMs: 50, healthCheckMs: 0 }),
    ]);
  },
  after: () => livy?.close(),
});

// Vitest runs afterAll hooks in reverse order of registration: this one runs before the stack is cleaned up.
afterAll(() => {
  client?.destroy();
});

const file = {
  ...notebookFile(
    [
      { name: 'orders_src', kind: 'source', config: { type: 'table', table: 'orders' } },
      { name: 'big', source: 'SELECT id, customer_id, amount\nFROM orders_src\nWHERE amount > 100' },
      {
        name: 'per_customer',
        kind: 'pyspark',
        source:
          'from pyspark.sql import functions as F\nbig.groupBy("customer_id").agg(F.count("*").alias("n"), F.sum("amount").alias("spent"))',
      },
      { name: 'report', source: 'SELECT customer_id, n, spent\nFROM per_customer\nORDER BY customer_id' },
    ],
    'Spark end to end',
  ),
  defaultEngine: 'spark',
};

describe('a notebook on Livy through the kernel', () => {
  it('runs SQL and PySpark cells, then marks exactly the cells of a lost session stale for collaborators', async () => {
    const nb = await createNotebookFrom(s, file);
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells.every((c) => c.engine === 'spark')).toBe(true);
    const done = finished(events);
    for (const id of ['c_orders_src', 'c_big', 'c_per_customer', 'c_report']) {
      expect(done.get(id)?.status, `${id}: ${JSON.stringify(done.get(id))}`).toBe('done');
    }

    const duck = await DuckDBInstance.create(':memory:', { autoload_known_extensions: 'false' });
    const con = await duck.connect();
    for (const sql of SEED_SQL) await con.run(sql);
    const want = (
      await con.runAndReadAll(
        'SELECT customer_id, count(*), sum(amount) FROM orders WHERE amount > 100 GROUP BY 1 ORDER BY 1',
      )
    ).getRowsJson() as unknown[][];
    con.closeSync();
    duck.closeSync();
    const report = await page(s, nb, 'c_report');
    expect(report.status).toBe(200);
    expect(report.body.rows.map((r) => r.map(Number))).toEqual(want.map((r) => r.map(Number)));

    // The sessions listing: one sql and one pyspark session for the notebook, idle, with the cells they hold.
    const listed = await kernelApi<{
      sessions: Array<{ notebookId: string; kind: string; sessionId: string; phase: string; cells: string[] }>;
    }>(s, '/api/engines/spark/sessions');
    expect(listed.status).toBe(200);
    const py = listed.body.sessions.find((x) => x.notebookId === nb && x.kind === 'pyspark')!;
    const sql = listed.body.sessions.find((x) => x.notebookId === nb && x.kind === 'sql')!;
    expect(py.phase).toBe('idle');
    expect(py.cells.sort()).toEqual(['c_big', 'c_orders_src', 'c_per_customer']);
    expect(sql.cells.sort()).toEqual(['c_big', 'c_orders_src', 'c_per_customer', 'c_report']);

    client = newClient(s.collab.url, nb);
    await client.synced();
    await waitFor(
      () => Object.values(readRuns(client!.doc)).filter((r) => r.status === 'done').length === 4,
      10_000,
      'four done runs',
    );

    // YARN kills the PySpark session's driver; the next look at the sessions notices it.
    livy.kill(Number(py.sessionId));
    const after = await kernelApi<{ sessions: Array<{ kind: string; notebookId: string; phase: string }> }>(
      s,
      '/api/engines/spark/sessions',
    );
    expect(after.body.sessions.find((x) => x.notebookId === nb && x.kind === 'pyspark')?.phase).toBe('dead');
    await waitFor(() => readRuns(client!.doc).c_per_customer?.status === 'stale', 10_000, 'stale runs');
    const runs = readRuns(client.doc);
    const reason = `Livy session ${py.sessionId} is dead.`;
    for (const id of ['c_orders_src', 'c_big', 'c_per_customer']) {
      expect(runs[id], id).toMatchObject({ status: 'stale', staleReason: reason });
    }
    expect(runs.c_report.status).toBe('done');

    // Running the notebook again recomputes exactly the stale cells.
    const again = await runToEnd(s, { notebookId: nb, scope: 'all' });
    const actions = new Map(again.created.cells.map((c) => [c.cellId, c.action]));
    expect(Object.fromEntries(actions)).toEqual({
      c_orders_src: 'run',
      c_big: 'run',
      c_per_customer: 'run',
      c_report: 'reuse',
    });
    for (const [id, e] of finished(again.events)) expect(e.status, id).toMatch(/done|reused/);
    await waitFor(
      () => Object.values(readRuns(client!.doc)).every((r) => r.status === 'done'),
      10_000,
      'every run done again',
    );
  });
});
