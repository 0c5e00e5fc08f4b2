// The run logic with a Spark engine (Livy, against its test server): a notebook whose default engine is Spark runs a
// table source, a PySpark cell and a SQL cell in the notebook's session, and a DuckDB cell reads the Spark result
// from the result store.
import { readRuns } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { registerEngineFactory } from '../src/engines/registry.ts';
import { livyStack, until } from './spark/harness.ts';
import { createNotebookFrom, finished, newClient, notebookFile, page, runToEnd, withKernel } from './stack.ts';

let spark: Awaited<ReturnType<typeof livyStack>>;
const s = withKernel({
  async before() {
    spark = await livyStack();
    registerEngineFactory(() => [spark.engine]);
  },
  after: () => spark?.close(),
});

describe('runs on a Spark engine', () => {
  it('[R4][R7] runs source -> PySpark -> SQL in the Spark session and feeds a DuckDB cell', async () => {
    const file = notebookFile([
      { name: 'orders_src', kind: 'source', config: { type: 'table', table: 'orders' } },
      {
        name: 'per_customer',
        kind: 'pyspark',
        source:
          'from pyspark.sql import functions as F\norders_src.groupBy("customer_id").agg(F.sum("amount").alias("spent"))',
      },
      { name: 'top', source: 'SELECT customer_id, spent FROM per_customer ORDER BY spent DESC, customer_id LIMIT 3' },
      { name: 'local_total', source: 'SELECT sum(spent)::BIGINT AS total FROM top' },
    ]);
    file.defaultEngine = 'spark';
    file.cells[3].engine = 'duckdb';
    const nb = await createNotebookFrom(s, file);
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells.map((c) => [c.name, c.engine])).toEqual([
      ['orders_src', 'spark'],
      ['per_customer', 'spark'],
      ['top', 'spark'],
      ['local_total', 'duckdb'],
    ]);
    const f = finished(events);
    expect([...f.values()].map((e) => [e.cellId, e.status])).toEqual(created.cells.map((c) => [c.cellId, 'done']));
    expect(f.get('c_orders_src')?.rowCount).toBe(300);
    // Reference: amounts are (id * 37) % 500 for ids 1..300, customer 1 + id % 30.
    const spent = new Map<number, number>();
    for (let id = 1; id <= 300; id++) spent.set(1 + (id % 30), (spent.get(1 + (id % 30)) ?? 0) + ((id * 37) % 500));
    const top3 = [...spent.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3);
    expect((await page(s, nb, 'c_top')).body.rows).toEqual(top3);
    expect((await page(s, nb, 'c_local_total')).body.rows).toEqual([[top3.reduce((n, [, v]) => n + v, 0)]]);
    const client = newClient(s.collab.url, nb);
    await client.synced();
    expect(readRuns(client.doc).c_per_customer).toMatchObject({ status: 'done', engine: 'spark' });
    client.destroy();
  });

  it("frees the notebook's Spark sessions once the kernel drops its replica, not before", async () => {
    const file = notebookFile([
      { name: 'per_region', source: 'SELECT region, count(*) AS n FROM customers GROUP BY region ORDER BY region' },
    ]);
    file.defaultEngine = 'spark';
    const nb = await createNotebookFrom(s, file);
    const before = new Set(spark.livy.sessions.keys());
    // Held open (as a long edit-and-run session would), the replica cannot go idle: the run's session must survive
    // the end of the run.
    const held = await s.kernel.bridge.open(nb);
    const { events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(finished(events).get('c_per_region')).toMatchObject({ status: 'done', rowCount: 3 });
    const created = [...spark.livy.sessions.keys()].filter((id) => !before.has(id));
    expect(created.length).toBeGreaterThan(0);
    const mine = (await spark.engine.sessions()).sessions.filter((x) => x.notebookId === nb);
    expect(mine.map((x) => Number(x.sessionId)).sort()).toEqual(created.sort());
    const deletes = () =>
      spark.livy.requests.filter(
        (r) => r.method === 'DELETE' && created.some((id) => r.path.endsWith(`/sessions/${id}`)),
      );
    expect(deletes()).toEqual([]);

    held.release();
    // PIPEBOOK_DOC_IDLE_MS and PIPEBOOK_SPARK_IDLE_MS are 500 in the test stack: the replica closes, then after the
    // grace period the sessions are deleted on Livy.
    await until('the replica to close', () => s.kernel.bridge.openCount() === 0, 10_000);
    await until(
      'the sessions to be deleted on Livy',
      () => created.every((id) => !spark.livy.sessions.has(id)),
      10_000,
    );
    expect(deletes().map((r) => r.status)).toEqual(created.map(() => 200));
    expect((await spark.engine.sessions()).sessions.filter((x) => x.notebookId === nb)).toEqual([]);
  });
});
