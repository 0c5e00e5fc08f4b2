// The HTTP API in local mode (one local user owning everything), the kernel proxy and the built app.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { demoNotebookFile, exportNotebook, readMeta } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type CollabProcess, createNotebook, newClient, startCollabProcess, waitFor } from './helpers.ts';

let server: CollabProcess;
let kernel: http.Server;
let dist: string;
const seenByKernel: Array<{ url: string; auth?: string; body: string }> = [];

beforeAll(async () => {
  // A stand-in kernel: echoes requests and streams Server-Sent Events one at a time.
  kernel = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seenByKernel.push({ url: req.url ?? '', auth: req.headers.authorization, body });
      if (req.url?.startsWith('/api/runs/stream')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        // The second event waits until the client asks for it, so the first must arrive unbuffered.
        const timer = setInterval(() => {
          if (seenByKernel.some((s) => s.url === '/api/runs/next')) {
            clearInterval(timer);
            res.end('data: second\n\n');
          }
        }, 10);
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echoed: req.method, url: req.url, body: body ? JSON.parse(body) : null }));
    });
  });
  await new Promise<void>((r) => kernel.listen(0, '127.0.0.1', r));
  dist = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-dist-'));
  fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Pipebook</title>');
  fs.mkdirSync(path.join(dist, 'assets'));
  fs.writeFileSync(path.join(dist, 'assets', 'app.js'), 'console.log(1)');
  server = await startCollabProcess({
    PIPEBOOK_KERNEL_URL: `http://127.0.0.1:${(kernel.address() as AddressInfo).port}`,
    PIPEBOOK_DIST_DIR: dist,
  });
});
afterAll(async () => {
  await server?.cleanup();
  kernel?.close();
  fs.rmSync(dist, { recursive: true, force: true });
});

type Item = { id: string; title: string; role: string; updatedAt: string; owner: { id: string } };

describe('notebook API (local mode)', () => {
  it('creates the demo notebook on first start and lists it for the local owner', async () => {
    const list = await api<Item[]>(server.url, '/api/notebooks');
    expect(list.status).toBe(200);
    const demo = list.body.find((n) => n.title === demoNotebookFile().title);
    expect(demo).toMatchObject({ role: 'owner', owner: { id: 'local' } });
    expect(Number.isNaN(Date.parse(demo?.updatedAt ?? ''))).toBe(false);
    expect((await api(server.url, '/api/me')).body).toMatchObject({
      id: 'local',
      name: 'Local user',
      authMode: 'local',
    });
  });

  it('creates empty, demo and imported notebooks; export returns the .pipebook.json', async () => {
    const empty = await createNotebook(server.url, { title: 'Blank' });
    const exported = await api<{ title: string; cells: unknown[] }>(server.url, `/api/notebooks/${empty}/export`);
    expect(exported.body).toMatchObject({ format: 'pipebook', title: 'Blank', cells: [] });
    const demo = await createNotebook(server.url, { template: 'demo' });
    const demoFile = await api<{ cells: unknown[] }>(server.url, `/api/notebooks/${demo}/export`);
    expect(demoFile.body.cells).toEqual(demoNotebookFile().cells);
    const file = { ...demoNotebookFile('Imported'), cells: demoNotebookFile().cells.slice(0, 3) };
    const imported = await createNotebook(server.url, { file });
    const back = await api(server.url, `/api/notebooks/${imported}/export`);
    expect(back.body).toEqual(file);
    const c = newClient(server.url, imported);
    await c.synced();
    expect(exportNotebook(c.doc)).toEqual(file);
    c.destroy();
  });

  it('refuses a bad import with 400 and a message naming the field', async () => {
    const bad = { ...demoNotebookFile(), cells: [{ id: 'x', name: '1bad', kind: 'sql' }] };
    const r = await api<{ error: { code: string; message: string } }>(server.url, '/api/notebooks', {
      method: 'POST',
      body: { file: bad },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_file');
    expect(r.body.error.message).toMatch(/cells\.0\.name/);
    const notJson = await fetch(`${server.url}/api/notebooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('renames in the registry and in the live document at once', async () => {
    const id = await createNotebook(server.url, { title: 'Old' });
    const c = newClient(server.url, id);
    await c.synced();
    const r = await api<Item>(server.url, `/api/notebooks/${id}`, { method: 'PATCH', body: { title: 'New name' } });
    expect(r.status).toBe(200);
    expect(r.body.title).toBe('New name');
    await waitFor(() => readMeta(c.doc).title === 'New name', 5000, 'title in the doc');
    c.destroy();
    const list = await api<Item[]>(server.url, '/api/notebooks');
    expect(list.body.find((n) => n.id === id)?.title).toBe('New name');
    expect((await api(server.url, `/api/notebooks/${id}`, { method: 'PATCH', body: { title: '' } })).status).toBe(400);
  });

  it('keeps the registry title in step when a client edits the title in the document', async () => {
    const id = await createNotebook(server.url, { title: 'Before' });
    const c = newClient(server.url, id);
    await c.synced();
    const { setTitle } = await import('@pipebook/shared');
    setTitle(c.doc, 'Edited in the doc');
    await waitFor(
      async () =>
        (await api<Item[]>(server.url, '/api/notebooks')).body.find((n) => n.id === id)?.title === 'Edited in the doc',
      5000,
      'registry title',
    );
    c.destroy();
  });

  it('deletes a notebook: its sockets close with 4404 and it is gone', async () => {
    const id = await createNotebook(server.url, {});
    const c = newClient(server.url, id);
    await c.synced();
    const closed = new Promise<number>((r) =>
      c.provider.once('connection-close', (e: CloseEvent | null) => r(e?.code ?? -1)),
    );
    expect((await api(server.url, `/api/notebooks/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await closed).toBe(4404);
    c.destroy();
    const after = await api<{ error: { code: string } }>(server.url, `/api/notebooks/${id}/export`);
    expect(after.status).toBe(404);
    expect(after.body.error.code).toBe('not_found');
  });

  it('answers unknown API routes with a JSON 404, and serves health and Prometheus metrics', async () => {
    const r = await api<{ error: { code: string } }>(server.url, '/api/nothing-here');
    expect(r).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'No such API route' } } });
    expect((await api<{ ok: boolean }>(server.url, '/healthz')).body.ok).toBe(true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      'pipebook_collab_connections',
      'pipebook_collab_docs_loaded',
      'pipebook_collab_updates_total',
      'pipebook_collab_updates_per_second',
      'pipebook_collab_store_commit_seconds_count',
    ]) {
      expect(metrics).toMatch(new RegExp(`^${name} \\d`, 'm'));
    }
  });

  it('unloads a document once its last client leaves', async () => {
    const id = await createNotebook(server.url, {});
    const loaded = async () => (await api<{ docsLoaded: number }>(server.url, '/healthz')).body.docsLoaded;
    await waitFor(async () => (await loaded()) === 0, 5000, 'idle');
    const c = newClient(server.url, id);
    await c.synced();
    expect(await loaded()).toBe(1);
    c.destroy();
    await waitFor(async () => (await loaded()) === 0, 5000, 'unload');
  });
});

describe('kernel proxy and the app', () => {
  it('forwards kernel routes with method, body, query and Authorization', async () => {
    const res = await fetch(`${server.url}/api/runs?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer abc' },
      body: JSON.stringify({ cellId: 'c1' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ echoed: 'POST', url: '/api/runs?x=1', body: { cellId: 'c1' } });
    expect(seenByKernel.find((s) => s.url === '/api/runs?x=1')?.auth).toBe('Bearer abc');
    for (const p of ['/api/results/r1', '/api/engines', '/api/samples/x', '/api/copilot/chat']) {
      expect((await fetch(`${server.url}${p}`)).status).toBe(201);
    }
  });

  it('streams Server-Sent Events through without buffering', async () => {
    const res = await fetch(`${server.url}/api/runs/stream`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('data: first');
    // Only now does the kernel send the rest.
    await fetch(`${server.url}/api/runs/next`);
    let rest = '';
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest += new TextDecoder().decode(r.value);
    }
    expect(rest).toContain('data: second');
  });

  it('answers 503 with a JSON error when the kernel is down', async () => {
    const down = await startCollabProcess({ PIPEBOOK_KERNEL_URL: 'http://127.0.0.1:9' });
    try {
      const r = await api<{ error: { code: string } }>(down.url, '/api/engines');
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('engine_unavailable');
    } finally {
      await down.cleanup();
    }
  });

  it('serves the built app with SPA fallback, but not for API routes', async () => {
    const asset = await fetch(`${server.url}/assets/app.js`);
    expect(await asset.text()).toBe('console.log(1)');
    const deep = await fetch(`${server.url}/notebooks/nb_123`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<title>Pipebook</title>');
    expect((await fetch(`${server.url}/api/unknown`)).status).toBe(404);
  });
});
