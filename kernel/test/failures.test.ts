// Refusals, errors, cancellation and file-path safety, end to end through the collaboration server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readRuns } from '@pipebook/shared';
import type { RunEvent } from '@pipebook/shared/protocol/kernel';
import { describe, expect, it } from 'vitest';
import {
  collectEvents,
  createNotebookFrom,
  finished,
  kernelApi,
  newClient,
  notebookFile,
  runToEnd,
  startRun,
  waitFor,
  withKernel,
} from './stack.ts';

const s = withKernel();

async function runsSeenBy(notebookId: string) {
  const client = newClient(s.collab.url, notebookId);
  await client.synced();
  return client;
}

describe('refused before anything runs', () => {
  it('[R3] a cycle is refused with the cycle named, and nothing is written', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'x', source: 'SELECT * FROM y' },
        { name: 'y', source: 'SELECT * FROM x' },
        { name: 'z', source: 'SELECT 1 AS one' },
      ]),
    );
    const r = await kernelApi<{ error: { code: string; message: string; cellId: string } }>(s, '/api/runs', {
      method: 'POST',
      body: { notebookId: nb, scope: 'all' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('cycle');
    expect(['c_x', 'c_y']).toContain(r.body.error.cellId);
    expect(r.body.error.message).toMatch(/x/);
    const client = await runsSeenBy(nb);
    expect(readRuns(client.doc)).toEqual({});
    client.destroy();
    // A cell outside the cycle still runs on its own.
    const ok = await runToEnd(s, { notebookId: nb, cellId: 'c_z', scope: 'upstream' });
    expect(finished(ok.events).get('c_z')?.status).toBe('done');
  });

  it('[R3] an input that names no cell is refused before anything runs', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'a', source: 'SELECT 1 AS v' },
        {
          name: 'out',
          kind: 'target',
          config: { input: 'c_gone', type: 'table', table: 'never_written', mode: 'replace' },
        },
      ]),
    );
    const r = await kernelApi<{ error: { code: string; cellId: string } }>(s, '/api/runs', {
      method: 'POST',
      body: { notebookId: nb, scope: 'all' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'unknown_reference', cellId: 'c_out' });
    const tables = await s.kernel.warehouse.readAll(
      "SELECT count(*) FROM information_schema.tables WHERE table_name = 'never_written'",
    );
    expect(Number(tables.rowsJs[0][0])).toBe(0);
    expect((await kernelApi(s, `/api/results/${nb}/c_a`)).status).toBe(404);
  });

  it('[R3] a cell reading a Markdown cell is refused', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'notes', kind: 'markdown', source: 'text' },
        { name: 'q', source: 'SELECT * FROM notes' },
      ]),
    );
    const r = await kernelApi<{ error: { code: string } }>(s, '/api/runs', {
      method: 'POST',
      body: { notebookId: nb, cellId: 'c_q', scope: 'cell' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('unknown_reference');
  });
});

describe('errors', () => {
  const broken = () =>
    notebookFile([
      { name: 'a', source: 'SELECT range AS x FROM range(5)' },
      { name: 'b', source: 'SELECT x,\n  x + 1 AS next,\n  no_such_column\nFROM a' },
      { name: 'c', source: 'SELECT count(*) AS n FROM b' },
      { name: 'd', source: 'SELECT 42 AS answer' },
    ]);

  it('[R9][R8] an engine error lands on its cell and line; its downstream is blocked, not failed', async () => {
    const nb = await createNotebookFrom(s, broken());
    const { events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    const f = finished(events);
    expect(f.get('c_a')?.status).toBe('done');
    expect(f.get('c_b')?.status).toBe('error');
    expect(f.get('c_b')?.error).toMatchObject({ code: 'sql_error', cellId: 'c_b', line: 3, column: 3 });
    expect(f.get('c_b')?.error?.message).toMatch(/no_such_column/);
    expect(f.get('c_b')?.error?.message).not.toMatch(/LINE \d+:/);
    expect(f.get('c_c')).toMatchObject({ status: 'blocked', blockedBy: 'c_b' });
    expect(f.get('c_d')?.status).toBe('done');
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'error' });
    const client = await runsSeenBy(nb);
    const runs = readRuns(client.doc);
    expect(runs.c_b).toMatchObject({ status: 'error', error: { code: 'sql_error', line: 3, column: 3 } });
    expect(runs.c_c).toMatchObject({ status: 'blocked', blockedBy: 'c_b' });
    client.destroy();
  });

  it('[R9] an error in an upstream cell compiled into the statement lands on that cell', async () => {
    const nb = await createNotebookFrom(s, broken());
    const { events } = await runToEnd(s, { notebookId: nb, cellId: 'c_c', scope: 'cell' });
    const f = finished(events);
    expect(f.get('c_b')?.error).toMatchObject({ cellId: 'c_b', line: 3, column: 3 });
    expect(f.get('c_c')).toMatchObject({ status: 'blocked', blockedBy: 'c_b' });
  });
});

describe('cancel', () => {
  it('[R10] cancelling interrupts a long query within a second and the cell shows cancelled', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'slow', source: 'SELECT count(*) AS n FROM range(100000000000) t WHERE (t.range * 7) % 13 = 1' },
        { name: 'after', source: 'SELECT n FROM slow' },
      ]),
    );
    const created = await startRun(s, { notebookId: nb, scope: 'all' });
    const events: RunEvent[] = [];
    const done = collectEvents(s, created.runId).then((all) => events.push(...all));
    const client = await runsSeenBy(nb);
    await waitFor(() => readRuns(client.doc).c_slow?.status === 'running', 10_000, 'the slow cell to start');
    const t0 = performance.now();
    const r = await kernelApi<{ state: string }>(s, `/api/runs/${created.runId}/cancel`, { method: 'POST' });
    expect(r.status).toBe(200);
    await waitFor(() => readRuns(client.doc).c_slow?.status === 'cancelled', 2000, 'cancelled status');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    await done;
    const f = finished(events);
    expect(f.get('c_slow')?.status).toBe('cancelled');
    expect(f.get('c_after')?.status).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'cancelled' });
    expect(readRuns(client.doc).c_after?.status).toBe('cancelled');
    client.destroy();
  });
});

describe('files', () => {
  it('[R13] file sources outside the data folder are refused: .., absolute paths, escaping symlinks', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.csv'), 'secret\n42\n');
    fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(s.dataDir, 'link.csv'));
    try {
      for (const p of [
        '../secret.csv',
        'demo/../../secret.csv',
        path.join(outside, 'secret.csv'),
        '/etc/passwd',
        'link.csv',
      ]) {
        const nb = await createNotebookFrom(
          s,
          notebookFile([{ name: 'f', kind: 'source', config: { type: 'file', path: p, format: 'csv' } }]),
        );
        const r = await kernelApi<{ error: { code: string; cellId: string } }>(s, '/api/runs', {
          method: 'POST',
          body: { notebookId: nb, scope: 'all' },
        });
        expect(r.status, p).toBe(400);
        expect(r.body.error, p).toMatchObject({ code: 'path_outside_data', cellId: 'c_f' });
      }
    } finally {
      fs.rmSync(path.join(s.dataDir, 'link.csv'), { force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('[R13] SQL cannot read files outside the data folder either', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([{ name: 'peek', source: "SELECT * FROM read_csv('/etc/passwd')" }]),
    );
    const { events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    const e = finished(events).get('c_peek');
    expect(e?.status).toBe('error');
    expect(e?.error?.message).toMatch(/disabled by configuration|Permission/i);
  });

  it('[R13] a file source inside the data folder is read, and a file target writes inside it', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'sample', kind: 'source', config: { type: 'file', path: 'demo/orders_sample.csv', format: 'csv' } },
        { name: 'big', source: 'SELECT order_id, amount FROM sample WHERE amount > 100' },
        {
          name: 'out',
          kind: 'target',
          config: { input: 'c_big', type: 'file', path: 'exports/big.parquet', format: 'parquet' },
        },
        {
          name: 'bad_out',
          kind: 'target',
          config: { input: 'c_big', type: 'file', path: '../escape.csv', format: 'csv' },
        },
      ]),
    );
    const refused = await kernelApi<{ error: { code: string } }>(s, '/api/runs', {
      method: 'POST',
      body: { notebookId: nb, scope: 'all' },
    });
    expect(refused.body.error.code).toBe('path_outside_data');
    const { events } = await runToEnd(s, { notebookId: nb, cellId: 'c_out', scope: 'upstream' });
    const f = finished(events);
    expect(f.get('c_sample')?.rowCount).toBe(1000);
    const expected = await s.kernel.warehouse.readAll(
      `SELECT count(*) FROM read_csv('${path.join(s.dataDir, 'demo/orders_sample.csv')}') WHERE amount > 100`,
    );
    expect(f.get('c_out')?.rowCount).toBe(Number(expected.rowsJs[0][0]));
    const written = await s.kernel.warehouse.readAll(
      `SELECT count(*) FROM read_parquet('${path.join(s.dataDir, 'exports/big.parquet')}')`,
    );
    expect(Number(written.rowsJs[0][0])).toBe(Number(expected.rowsJs[0][0]));
    expect(fs.existsSync(path.join(path.dirname(s.dataDir), 'escape.csv'))).toBe(false);
  });
});
