// The demo notebook end to end, results paging (JSON and Arrow), what collaborators see in the runs map, events
// replay, the catalog, and fairness between notebooks.
import { demoNotebookFile, type RunStatus, readRuns, runsMap } from '@pipebook/shared';
import type { CatalogResponse, EnginesResponse, RunEvent, RunInfo } from '@pipebook/shared/protocol/kernel';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  collectEvents,
  createNotebookFrom,
  finished,
  kernelApi,
  newClient,
  notebookFile,
  page,
  runToEnd,
  startRun,
  waitFor,
  withKernel,
} from './stack.ts';

const s = withKernel({ demoOrders: 40_000 });

describe('demo notebook', () => {
  it('[R2][R6] runs top to bottom and every result matches a direct DuckDB query', async () => {
    const nb = await createNotebookFrom(s, demoNotebookFile());
    const client = newClient(s.collab.url, nb);
    await client.synced();
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells.map((c) => c.name)).toEqual([
      'orders',
      'customers',
      'orders_clean',
      'orders_customers',
      'revenue_by_country',
      'top_countries',
      'revenue_report',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'done' });
    const direct = await s.kernel.warehouse.readAll(`
      SELECT c.country, sum(o.amount) AS revenue, count(*) AS order_count
      FROM orders o JOIN customers c ON o.customer_id = c.customer_id
      WHERE o.status <> 'cancelled' AND o.amount > 0
      GROUP BY c.country ORDER BY revenue DESC LIMIT 10`);
    const top = await page(s, nb, 'demo_top_countries');
    expect(top.body.rows).toEqual(direct.rowsJs.map((r) => [r[0], Number(r[1]), Number(r[2])]));
    const clean = await s.kernel.warehouse.readAll(
      "SELECT count(*) FROM orders WHERE status <> 'cancelled' AND amount > 0",
    );
    expect((await page(s, nb, 'demo_orders_clean', 'limit=1')).body.rowCount).toBe(Number(clean.rowsJs[0][0]));
    expect(finished(events).get('demo_orders')?.rowCount).toBe(40_000);
    const report = await s.kernel.warehouse.readAll(
      'SELECT country, revenue, order_count FROM revenue_by_country_report ORDER BY revenue DESC LIMIT 10',
    );
    expect(report.rowsJson).toEqual(direct.rowsJson);
    // Every collaborator sees the final statuses with who ran it, the engine and the row counts.
    await waitFor(() => readRuns(client.doc).demo_report?.status === 'done', 5000, 'statuses to reach a collaborator');
    const runs = readRuns(client.doc);
    for (const c of created.cells) {
      expect(runs[c.cellId], c.name).toMatchObject({
        status: 'done',
        runId: created.runId,
        engine: 'duckdb',
        by: { id: 'local', name: 'Local user' },
        inputHash: c.inputHash,
      });
    }
    expect(runs.demo_top_countries?.rowCount).toBe(10);
    expect(runs.demo_top_countries?.columns?.map((c) => c.name)).toEqual(['country', 'revenue', 'order_count']);
    expect(runs.demo_intro).toBeUndefined();
    client.destroy();
  });
});

describe('results', () => {
  it('[R12] pages a large result by offset and limit, as JSON and as Arrow', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        {
          name: 'big',
          source:
            "SELECT range AS id, range * 9007199254740 AS wide, 'row ' || range AS label, DATE '2024-01-01' + (range % 366)::INTEGER AS day, range % 2 = 0 AS even FROM range(250000)",
        },
      ]),
    );
    const { events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(finished(events).get('c_big')?.rowCount).toBe(250_000);
    const p = await page(s, nb, 'c_big', 'offset=200000&limit=3');
    expect(p.status).toBe(200);
    expect(p.body.rowCount).toBe(250_000);
    expect(p.body.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:BIGINT',
      'wide:BIGINT',
      'label:VARCHAR',
      'day:DATE',
      'even:BOOLEAN',
    ]);
    const day = (i: number) => new Date(Date.UTC(2024, 0, 1) + (i % 366) * 86_400_000).toISOString().slice(0, 10);
    expect(p.body.rows).toEqual(
      [200000, 200001, 200002].map((i) => [i, String(BigInt(i) * 9007199254740n), `row ${i}`, day(i), i % 2 === 0]),
    );
    const res = await fetch(`${s.kernel.url}/api/results/${nb}/c_big?offset=10&limit=5&format=arrow`);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    expect(res.headers.get('x-pipebook-row-count')).toBe('250000');
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.numRows).toBe(5);
    const first = table.get(0)!.toJSON();
    expect(first.id).toBe(10n);
    expect(first.wide).toBe(10n * 9007199254740n);
    expect(first.label).toBe('row 10');
    expect(first.even).toBe(true);
    const tooBig = await page(s, nb, 'c_big', 'limit=100000');
    expect(tooBig.status).toBe(400);
  });

  it('[R6] a collaborator sees queued, running and done as they happen', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'a', source: 'SELECT count(*) AS n FROM range(20000000) t WHERE t.range % 7 = 0' },
        { name: 'b', source: 'SELECT n + 1 AS m FROM a' },
      ]),
    );
    const client = newClient(s.collab.url, nb);
    await client.synced();
    const seen: Record<string, RunStatus[]> = { c_a: [], c_b: [] };
    runsMap(client.doc).observe(() => {
      const runs = readRuns(client.doc);
      for (const id of Object.keys(seen)) {
        const st = runs[id]?.status;
        if (st && seen[id].at(-1) !== st) seen[id].push(st);
      }
    });
    await runToEnd(s, { notebookId: nb, scope: 'all' });
    await waitFor(() => seen.c_b.at(-1) === 'done', 5000, 'b done');
    expect(seen.c_a).toEqual(['queued', 'running', 'done']);
    expect(seen.c_b).toEqual(['queued', 'running', 'done']);
    client.destroy();
  });

  it('[R15] events are numbered, replayed to late subscribers, and resumable after Last-Event-ID', async () => {
    const nb = await createNotebookFrom(s, notebookFile([{ name: 'one', source: 'SELECT 1 AS v' }]));
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'run_queued',
      'cell_queued',
      'cell_started',
      'cell_finished',
      'run_finished',
    ]);
    const again = await collectEvents(s, created.runId);
    expect(again).toEqual(events);
    const res = await fetch(`${s.kernel.url}/api/runs/${created.runId}/events`, { headers: { 'last-event-id': '3' } });
    const text = await res.text();
    const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(seqs).toEqual([4, 5]);
    // Asking for an event stream when starting the run gets the same events in the one response.
    const direct = await fetch(`${s.kernel.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ notebookId: nb, scope: 'all', force: true }),
    });
    expect(direct.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const streamed = (await direct.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as RunEvent);
    expect(streamed.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(streamed[0]).toMatchObject({ type: 'run_queued', cells: [{ cellId: 'c_one', action: 'run' }] });
    const info = await kernelApi<RunInfo>(s, `/api/runs/${created.runId}`);
    expect(info.body).toMatchObject({
      state: 'done',
      scope: 'all',
      cells: [{ cellId: 'c_one', status: 'done', rowCount: 1 }],
    });
  });
});

describe('engines and catalog', () => {
  it('lists the embedded engine and its tables with column types', async () => {
    const engines = await kernelApi<EnginesResponse>(s, '/api/engines');
    expect(engines.body.engines).toContainEqual({
      name: 'duckdb',
      type: 'duckdb',
      dialect: 'duckdb',
      label: 'DuckDB (embedded)',
    });
    const cat = await kernelApi<CatalogResponse>(s, '/api/engines/duckdb/catalog');
    const orders = cat.body.tables.find((t) => t.name === 'orders');
    expect(orders?.schema).toBe('main');
    expect(orders?.columns).toEqual(
      expect.arrayContaining([
        { name: 'order_id', type: 'BIGINT' },
        { name: 'customer_id', type: 'BIGINT' },
        { name: 'order_date', type: 'DATE' },
        { name: 'status', type: 'VARCHAR' },
        { name: 'amount', type: 'DECIMAL(12,2)' },
      ]),
    );
    expect(cat.body.tables.find((t) => t.name === 'customers')?.columns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['customer_id', 'name', 'country']),
    );
    expect((await kernelApi(s, '/api/engines/nope/catalog')).status).toBe(404);
  });
});

describe('fairness', () => {
  it("[R11] one notebook's long run does not keep another notebook's short run waiting", async () => {
    const slow = 'SELECT count(*) AS n FROM range(100000000000) t WHERE (t.range * 7) % 13 = 1';
    const longNb = await createNotebookFrom(
      s,
      notebookFile([1, 2, 3, 4, 5, 6].map((i) => ({ name: `slow${i}`, source: slow }))),
    );
    const shortNb = await createNotebookFrom(s, notebookFile([{ name: 'quick', source: 'SELECT 7 AS v' }]));
    const long = await startRun(s, { notebookId: longNb, scope: 'all' });
    const longEvents = collectEvents(s, long.runId);
    await waitFor(
      async () => {
        const info = await kernelApi<RunInfo>(s, `/api/runs/${long.runId}`);
        return info.body.cells.filter((c) => c.status === 'running').length === 3;
      },
      10_000,
      'the long run to fill its slots',
    );
    const t0 = performance.now();
    const { events } = await runToEnd(s, { notebookId: shortNb, scope: 'all' });
    const took = performance.now() - t0;
    expect(finished(events).get('c_quick')?.status).toBe('done');
    expect(took).toBeLessThan(2000);
    const info = await kernelApi<RunInfo>(s, `/api/runs/${long.runId}`);
    expect(info.body.state).toBe('running');
    await kernelApi(s, `/api/runs/${long.runId}/cancel`, { method: 'POST' });
    const le: RunEvent[] = await longEvents;
    expect(le.at(-1)).toMatchObject({ type: 'run_finished', status: 'cancelled' });
  });
});
