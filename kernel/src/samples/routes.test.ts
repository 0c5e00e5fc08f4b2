// The samples endpoint over HTTP: the caller's role is checked (viewer or more, as for results), the cell is read
// from the notebook, and the answer is Arrow with the sample headers.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { docFromFile, PipebookError } from '@pipebook/shared';
import { tableFromIPC } from 'apache-arrow';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBEngine, DuckDBWarehouse } from '../engines/duckdb.ts';
import { EngineRegistry } from '../engines/registry.ts';
import { sendError } from '../http/routes.ts';
import { samplesRouter } from './routes.ts';

let dir: string;
let wh: DuckDBWarehouse;
let url: string;
let server: ReturnType<ReturnType<typeof express>['listen']>;
const asked: Array<{ notebookId: string; need: string }> = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-samples-http-'));
  for (const d of ['results', 'data']) fs.mkdirSync(path.join(dir, d));
  wh = await DuckDBWarehouse.open({
    path: path.join(dir, 'w.duckdb'),
    allowedDirectories: [path.join(dir, 'results'), path.join(dir, 'data')],
  });
  await wh.run('CREATE TABLE t AS SELECT range AS n FROM range(25)');
  const doc = docFromFile({
    format: 'pipebook',
    version: 1,
    title: 'x',
    defaultEngine: 'duckdb',
    cells: [
      { id: 'c_t', name: 't', kind: 'source', source: '', config: { type: 'table', table: 't' } },
      { id: 'c_q', name: 'q', kind: 'sql', source: 'SELECT * FROM t', config: {} },
    ],
  });
  const app = express();
  app.use(
    '/api',
    samplesRouter({
      access: {
        async authorize(req: Request, notebookId: string, need: 'viewer') {
          asked.push({ notebookId, need });
          if (req.headers.authorization !== 'Bearer viewer')
            throw new PipebookError('forbidden', 'You have no access to this notebook.');
          return { role: 'viewer', user: { id: 'v', name: 'Viewer' } };
        },
      },
      openNotebook: async (id) => {
        if (id !== 'nb_1') throw new PipebookError('not_found', 'No such notebook.');
        return { doc, release: () => {} };
      },
      warehouse: wh,
      engines: new EngineRegistry(new DuckDBEngine(wh)),
      dataDir: path.join(dir, 'data'),
      resultsDir: path.join(dir, 'results'),
      env: { PIPEBOOK_SAMPLE_ROWS: '10' },
    }),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, err));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await wh.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (p: string, who?: string) =>
  fetch(`${url}${p}`, { headers: who ? { authorization: `Bearer ${who}` } : {} });

describe('GET /api/samples/:notebookId/:cellId', () => {
  it('answers a viewer with Arrow and the sample headers, the row count from the configured default', async () => {
    const res = await get('/api/samples/nb_1/c_t', 'viewer');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    expect(res.headers.get('x-pipebook-sample-rows')).toBe('10');
    expect(res.headers.get('x-pipebook-sample-truncated')).toBe('1');
    expect(res.headers.get('x-pipebook-sample-mode')).toBe('first');
    expect(JSON.parse(decodeURIComponent(res.headers.get('x-pipebook-sample-columns')!))).toEqual([
      { name: 'n', type: 'BIGINT' },
    ]);
    const t = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(t.numRows).toBe(10);
    expect(asked.at(-1)).toEqual({ notebookId: 'nb_1', need: 'viewer' });
  });

  it('honours rows and says when the whole source was sent', async () => {
    const res = await get('/api/samples/nb_1/c_t?rows=100', 'viewer');
    expect(res.headers.get('x-pipebook-sample-rows')).toBe('25');
    expect(res.headers.get('x-pipebook-sample-truncated')).toBe('0');
  });

  it('refuses callers without access before reading anything, and bad requests with a code', async () => {
    const denied = await get('/api/samples/nb_1/c_t', 'stranger');
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe('forbidden');
    const notSource = await get('/api/samples/nb_1/c_q', 'viewer');
    expect(notSource.status).toBe(400);
    expect((await notSource.json()).error.message).toMatch(/only source cells/);
    const badRows = await get('/api/samples/nb_1/c_t?rows=abc', 'viewer');
    expect(badRows.status).toBe(400);
    expect((await get('/api/samples/nb_1/c_nope', 'viewer')).status).toBe(404);
  });
});
