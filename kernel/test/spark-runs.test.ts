// The run logic with a Spark engine (Livy, against its test server): a notebook whose default engine is Spark runs a
// table source, a PySpark cell and a SQL cell in the notebook's session, and a DuckDB cell reads the Spark result
// from the result store.
import { readRuns } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerEngineFactory } from '../src/engines/registry.ts';
import { livyStack } from './spark/harness.ts';
import {
  createNotebookFrom,
  finished,
  newClient,
  notebookFile,
  page,
  runToEnd,
  type Stack,
  startStack,
} from './stack.ts';

let spark: Awaited<ReturnType<typeof livyStack>>;
let s: Stack;
beforeAll(async () => {
  spark = await livyStack();
  registerEngineFactory(() => [spark.engine]);
  s = await startStack();
});
afterAll(async () => {
  await s?.cleanup();
  await spark?.close();
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
});
