// A real notebook (Yjs document, shared compiler and graph) run on Livy through the kernel hooks: a table source, a
// visual filter, a PySpark cell and a SQL cell, with session loss marking the right cells stale in the document.
import { DuckDBInstance } from '@duckdb/node-api';
import { addCell, type CellId, initNotebook, type RunSummary, readCells, readRuns, setRuns } from '@pipebook/shared';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  engineSessions,
  runSparkCell,
  type SparkChainInput,
  sparkChainSteps,
  wireSessionLossStaleness,
} from '../../src/engines/livy/kernel-hooks.ts';
import { sharedCompiler } from '../../src/runs/shared-compiler.ts';
import { livyStack, rowsOf, SEED_SQL, signal, until } from './harness.ts';

let stack: Awaited<ReturnType<typeof livyStack>> | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function notebook() {
  const doc = new Y.Doc();
  initNotebook(doc, { defaultEngine: 'spark' });
  const orders = addCell(doc, { kind: 'source', name: 'orders_src', config: { type: 'table', table: 'orders' } });
  const big = addCell(doc, {
    kind: 'filter',
    name: 'big_orders',
    config: { input: orders, combinator: 'and', conditions: [{ column: 'amount', op: '>', value: 300 }] },
  });
  const perCustomer = addCell(doc, {
    kind: 'pyspark',
    name: 'per_customer',
    source: [
      'from pyspark.sql import functions as F',
      'big_orders.groupBy("customer_id").agg(F.count("*").alias("orders"), F.sum("amount").alias("spent"))',
    ].join('\n'),
  });
  const report = addCell(doc, {
    kind: 'sql',
    name: 'report',
    source: 'SELECT customer_id, orders, spent FROM per_customer WHERE orders > 1 ORDER BY customer_id',
  });
  return { doc, ids: { orders, big, perCustomer, report } };
}

function chainInput(doc: Y.Doc, cellId: CellId): SparkChainInput {
  const cells = readCells(doc);
  const graph = sharedCompiler.graph(cells, 'databricks');
  return {
    cells,
    parents: graph.parents,
    order: graph.order,
    cellId,
    hashes: sharedCompiler.inputHashes(cells, 'databricks'),
    compileOwn: (id, relationFor) =>
      sharedCompiler.compile(cells, id, 'databricks', {
        resolveFile: () => {
          throw new Error('no file sources here');
        },
        relationFor,
      }).sql,
  };
}

const stepsFor = (doc: Y.Doc, cellId: CellId) => sparkChainSteps(chainInput(doc, cellId));

describe('a notebook on Livy', () => {
  it('[S4][S5] runs source -> visual filter -> PySpark -> SQL as one chain of temp views', async () => {
    stack = await livyStack();
    const { doc, ids } = notebook();
    const steps = stepsFor(doc, ids.report);
    expect(steps.map((s) => [s.name, s.kind])).toEqual([
      ['orders_src', 'sql'],
      ['big_orders', 'sql'],
      ['per_customer', 'pyspark'],
      ['report', 'sql'],
    ]);
    expect(steps[2].inputs).toEqual(['big_orders']);
    const out = await stack.engine.runCells({ notebookId: 'nb', steps, signal: signal() });

    const duck = await DuckDBInstance.create(':memory:', { autoload_known_extensions: 'false' });
    const con = await duck.connect();
    for (const sql of SEED_SQL) await con.run(sql);
    const expected = (
      await con.runAndReadAll(
        'SELECT customer_id, count(*) AS orders, sum(amount) AS spent FROM orders WHERE amount > 300 GROUP BY 1 HAVING count(*) > 1 ORDER BY 1',
      )
    ).getRowsJson() as unknown[][];
    con.closeSync();
    duck.closeSync();
    expect(await rowsOf(out)).toEqual(expected.map((r) => r.map(Number)));
  });

  it("[S6] puts a SQL error at the line of the cell the user wrote, and a generated step's error on its cell", async () => {
    stack = await livyStack();
    const { doc, ids } = notebook();
    const bad = addCell(doc, { kind: 'sql', name: 'bad', source: 'SELECT id,\n  amountt\nFROM big_orders' });
    const steps = stepsFor(doc, bad);
    expect(steps.map((s) => s.sourceLineOffset)).toEqual([null, null, 4]);
    const err = await stack.engine.runCells({ notebookId: 'nb', steps, signal: signal() }).catch((e) => e);
    expect(err).toMatchObject({ code: 'sql_error', cellId: bad, line: 2, column: 3 });
    expect(err.message).toMatch(/amountt/);

    const wrongFilter = addCell(doc, {
      kind: 'filter',
      name: 'wrong_filter',
      config: { input: ids.orders, combinator: 'and', conditions: [{ column: 'nope', op: '=', value: 1 }] },
    });
    const err2 = await stack.engine
      .runCells({ notebookId: 'nb', steps: stepsFor(doc, wrongFilter), signal: signal() })
      .catch((e) => e);
    expect(err2).toMatchObject({ code: 'sql_error', cellId: wrongFilter });
    expect(err2.line).toBeUndefined();
  });

  it('writes a target cell from its input view in the notebook session, reusing what the session holds', async () => {
    stack = await livyStack();
    const { engine, livy } = stack;
    const { doc, ids } = notebook();
    const target = addCell(doc, {
      kind: 'target',
      name: 'report_out',
      config: { input: ids.report, type: 'table', table: 'customer_report', mode: 'replace' },
    });
    const shown = await runSparkCell(engine, { notebookId: 'nb', signal: signal(), ...chainInput(doc, ids.report) });
    expect(shown.type).toBe('result');
    const rows = shown.type === 'result' ? await rowsOf(shown.outcome) : [];
    const before = livy.statementCodes(0).length;
    const written = await runSparkCell(engine, {
      notebookId: 'nb',
      signal: signal(),
      target: { type: 'table', table: 'customer_report', mode: 'replace' },
      ...chainInput(doc, target),
    });
    expect(written).toEqual({ type: 'target', rowCount: rows.length });
    // Nothing upstream was recomputed: DROP, CREATE TABLE AS SELECT from the view, COUNT.
    const codes = livy.statementCodes(0).slice(before);
    expect(codes).toEqual([
      'DROP TABLE IF EXISTS `customer_report`',
      'CREATE TABLE `customer_report` AS\nSELECT * FROM `report`',
      'SELECT COUNT(*) AS n FROM `customer_report`',
    ]);
    const back = await engine.execute({
      sql: 'SELECT * FROM customer_report ORDER BY customer_id',
      signal: signal(),
      resultPath: '',
    });
    expect(await rowsOf(back)).toEqual(rows);
  });

  it('[S9] marks the cells held by a dead session stale in the shared runs map', async () => {
    stack = await livyStack();
    const { engine, livy } = stack;
    const { doc, ids } = notebook();
    const unwire = wireSessionLossStaleness(engine, async () => ({ doc, release: () => {} }));
    await engine.runCells({ notebookId: 'nb', steps: stepsFor(doc, ids.perCustomer), signal: signal() });
    const done: RunSummary = { status: 'done', runId: 'r1', engine: 'spark', by: { id: 'local', name: 'Local user' } };
    setRuns(
      doc,
      Object.values(ids).map((id) => [id, { ...done, finishedAt: Date.now() - 1000 }]),
      { source: 'kernel' },
    );
    expect((await engineSessions(engine)).sessions.map((s) => s.cells.length)).toEqual([3]);

    livy.kill(0);
    await engine.checkSessions();
    await until('the runs map to change', () => readRuns(doc)[ids.orders].status === 'stale');
    const runs = readRuns(doc);
    for (const id of [ids.orders, ids.big, ids.perCustomer]) {
      expect(runs[id]).toMatchObject({ status: 'stale', staleReason: 'Livy session 0 is dead.' });
    }
    expect(runs[ids.report].status).toBe('done'); // never ran in that session
    unwire();
  });
});
