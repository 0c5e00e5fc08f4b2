// End-to-end runs through the real collaboration server: a kernel replica reads the notebook, collaborators see the
// statuses it writes, results are paged over HTTP. Rule numbers refer to kernel/SPEC.md.
import fs from 'node:fs';
import path from 'node:path';
import { type CellId, createOrigin, readCell, readRuns, setRun, setSource } from '@pipebook/shared';
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

const s = withKernel();

const chain = () =>
  notebookFile([
    { name: 'intro', kind: 'markdown', source: '# Chain' },
    { name: 'a', source: 'SELECT range AS x FROM range(10)' },
    { name: 'b', source: 'SELECT x * 2 AS y\nFROM a' },
    { name: 'c', source: 'SELECT sum(y)::BIGINT AS s FROM b' },
    { name: 'd', source: "SELECT 'independent' AS note" },
  ]);

/** Waits until the kernel's replica of the notebook shows `source` in the cell (edits travel through the server). */
async function kernelSees(notebookId: string, cellId: string, source: string) {
  const { doc, release } = await s.kernel.bridge.open(notebookId);
  try {
    await waitFor(() => readCell(doc, cellId as CellId)?.source === source, 5000, 'the edit to reach the kernel');
  } finally {
    release();
  }
}

async function collaborator(notebookId: string) {
  const client = newClient(s.collab.url, notebookId);
  await client.synced();
  return client;
}

describe('scopes', () => {
  it('[R2] cell runs only the cell, reading its upstream inline', async () => {
    const nb = await createNotebookFrom(s, chain());
    const { created, events } = await runToEnd(s, { notebookId: nb, cellId: 'c_c', scope: 'cell' });
    expect(created.cells.map((c) => [c.cellId, c.action])).toEqual([['c_c', 'run']]);
    expect(finished(events).get('c_c')?.status).toBe('done');
    expect((await page(s, nb, 'c_c')).body.rows).toEqual([[90]]);
    expect((await page(s, nb, 'c_a')).status).toBe(404);
    const client = await collaborator(nb);
    const runs = readRuns(client.doc);
    expect(runs.c_c?.status).toBe('done');
    expect(runs.c_a).toBeUndefined();
    client.destroy();
  });

  it('[R2] upstream materialises the cell and everything it reads', async () => {
    const nb = await createNotebookFrom(s, chain());
    const { created } = await runToEnd(s, { notebookId: nb, cellId: 'c_c', scope: 'upstream' });
    expect(created.cells.map((c) => c.cellId)).toEqual(['c_a', 'c_b', 'c_c']);
    const b = await page(s, nb, 'c_b', 'offset=3&limit=4');
    expect(b.body.rowCount).toBe(10);
    expect(b.body.rows).toEqual([[6], [8], [10], [12]]);
    expect((await page(s, nb, 'c_a')).body.rows.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await page(s, nb, 'c_c')).body.rows).toEqual([[90]]);
    expect((await page(s, nb, 'c_d')).status).toBe(404);
  });

  it('[R2][R5] downstream takes the cell and its readers; unchanged cells are reused unless forced', async () => {
    const nb = await createNotebookFrom(s, chain());
    await runToEnd(s, { notebookId: nb, cellId: 'c_c', scope: 'upstream' });
    const again = await runToEnd(s, { notebookId: nb, cellId: 'c_b', scope: 'downstream' });
    expect(again.created.cells.map((c) => [c.cellId, c.action])).toEqual([
      ['c_b', 'reuse'],
      ['c_c', 'reuse'],
    ]);
    expect([...finished(again.events).values()].map((e) => e.status)).toEqual(['reused', 'reused']);
    const forced = await runToEnd(s, { notebookId: nb, cellId: 'c_b', scope: 'downstream', force: true });
    expect(forced.created.cells.map((c) => c.action)).toEqual(['run', 'run']);
    expect((await page(s, nb, 'c_c')).body.rows).toEqual([[90]]);
  });

  it('[R2] all runs every cell except Markdown, in dependency order', async () => {
    const nb = await createNotebookFrom(s, chain());
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells.map((c) => c.cellId).sort()).toEqual(['c_a', 'c_b', 'c_c', 'c_d']);
    const order = created.cells.map((c) => c.cellId);
    expect(order.indexOf('c_a')).toBeLessThan(order.indexOf('c_b'));
    expect(order.indexOf('c_b')).toBeLessThan(order.indexOf('c_c'));
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'done' });
    expect((await page(s, nb, 'c_d')).body.rows).toEqual([['independent']]);
    expect((await page(s, nb, 'c_c')).body.rows).toEqual([[90]]);
    const md = await kernelApi(s, '/api/runs', { method: 'POST', body: { notebookId: nb, cellId: 'c_intro' } });
    expect(md.status).toBe(400);
  });

  it('[R2] a notebook with nothing to run finishes at once', async () => {
    const nb = await createNotebookFrom(s, notebookFile([{ name: 'notes', kind: 'markdown', source: '# Only text' }]));
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['run_queued', 'run_finished']);
    expect(events.at(-1)).toMatchObject({ status: 'done' });
  });
});

describe('changes', () => {
  it('[R5][R7] after an upstream edit exactly that cell and its downstream re-run', async () => {
    const nb = await createNotebookFrom(s, chain());
    await runToEnd(s, { notebookId: nb, scope: 'all' });
    const client = await collaborator(nb);
    for (const [factor, expected] of [
      [3, 135],
      [4, 180],
    ]) {
      const source = `SELECT x * ${factor} AS y\nFROM a`;
      setSource(client.doc, 'c_b' as CellId, source);
      await kernelSees(nb, 'c_b', source);
      const { created } = await runToEnd(s, { notebookId: nb, scope: 'all' });
      const actions = Object.fromEntries(created.cells.map((c) => [c.cellId, c.action]));
      expect(actions).toEqual({ c_a: 'reuse', c_b: 'run', c_c: 'run', c_d: 'reuse' });
      expect((await page(s, nb, 'c_c')).body.rows).toEqual([[expected]]);
    }
    const third = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(third.created.cells.every((c) => c.action === 'reuse')).toBe(true);
    client.destroy();
  });
});

describe('runs at the same time', () => {
  it('[R17] a second run waits for a cell another run is computing with the same inputs, then reuses it', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'slow', source: 'SELECT count(*) AS n FROM range(150000000) t WHERE t.range % 7 = 0' },
        { name: 'after', source: 'SELECT n + 1 AS m FROM slow' },
      ]),
    );
    const first = await startRun(s, { notebookId: nb, scope: 'all' });
    const second = await startRun(s, { notebookId: nb, scope: 'all' });
    const [e1, e2] = await Promise.all([collectEvents(s, first.runId), collectEvents(s, second.runId)]);
    expect(finished(e1).get('c_slow')?.status).toBe('done');
    // The second run planned to compute it (it was not done yet) but reused the first run's result instead.
    expect(second.cells.find((c) => c.cellId === 'c_slow')?.action).toBe('run');
    expect(finished(e2).get('c_slow')?.status).toBe('reused');
    expect(e2.some((e) => e.type === 'cell_started' && e.cellId === 'c_slow')).toBe(false);
    expect(finished(e2).get('c_after')?.status).toBe('reused');
    const client = await collaborator(nb);
    expect(readRuns(client.doc).c_slow).toMatchObject({ status: 'done', runId: first.runId });
    client.destroy();
    expect((await page(s, nb, 'c_after')).body.rows).toEqual([[Math.ceil(150_000_000 / 7) + 1]]);
  });
});

describe('data files', () => {
  it('[R5] a replaced data file makes the cells reading it recompute; an untouched one does not', async () => {
    const dir = path.join(s.dataDir, 'changing');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'prices.csv'), 'item,price\na,1\nb,2\n');
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'prices', kind: 'source', config: { type: 'file', path: 'changing/prices.csv', format: 'csv' } },
        { name: 'total', source: 'SELECT sum(price)::BIGINT AS total FROM prices' },
        { name: 'other', source: 'SELECT 1 AS one' },
      ]),
    );
    await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect((await page(s, nb, 'c_total')).body.rows).toEqual([[3]]);
    const unchanged = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(unchanged.created.cells.every((c) => c.action === 'reuse')).toBe(true);
    fs.writeFileSync(path.join(dir, 'prices.csv'), 'item,price\na,1\nb,2\nc,30\n');
    const { created } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(Object.fromEntries(created.cells.map((c) => [c.cellId, c.action]))).toEqual({
      c_prices: 'run',
      c_total: 'run',
      c_other: 'reuse',
    });
    expect((await page(s, nb, 'c_total')).body.rows).toEqual([[33]]);
  });
});

describe('replicas and restarts', () => {
  it("[R1] the kernel's replica of a notebook closes once nobody uses it", async () => {
    const nb = await createNotebookFrom(s, chain());
    await runToEnd(s, { notebookId: nb, scope: 'all' });
    await waitFor(() => s.kernel.bridge.openCount() === 0, 10_000, 'idle replicas to close');
    // And a later run opens it again.
    const again = await runToEnd(s, { notebookId: nb, scope: 'all', force: true });
    expect(again.events.at(-1)).toMatchObject({ type: 'run_finished', status: 'done' });
  });

  it('[R5][R12] results and statuses survive a kernel restart, so nothing is recomputed', async () => {
    const nb = await createNotebookFrom(s, chain());
    await runToEnd(s, { notebookId: nb, scope: 'all' });
    await s.kernel.results.flush();
    await s.restartKernel();
    const { created } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells.every((c) => c.action === 'reuse')).toBe(true);
    expect((await page(s, nb, 'c_c')).body.rows).toEqual([[90]]);
  });

  it('[R6] statuses left running by a kernel that died are cancelled when a kernel next opens the notebook', async () => {
    const nb = await createNotebookFrom(s, chain());
    const client = await collaborator(nb);
    // What a crashed kernel leaves behind: a cell shown running for a run nobody runs any more.
    setRun(
      client.doc,
      'c_b' as CellId,
      { status: 'running', runId: 'run_gone', engine: 'duckdb', by: { id: 'local', name: 'Local user' } },
      createOrigin('kernel'),
    );
    await runToEnd(s, { notebookId: nb, cellId: 'c_d', scope: 'cell' });
    await waitFor(() => readRuns(client.doc).c_b?.status === 'cancelled', 5000, 'the orphan to be cancelled');
    expect(readRuns(client.doc).c_b?.error?.message).toMatch(/kernel stopped/);
    await waitFor(() => readRuns(client.doc).c_d?.status === 'done', 5000, 'the new run to show');
    client.destroy();
  });
});
