// Token mode: the kernel checks every caller and asks the collaboration server for their role on the notebook.
import type { RunCreated } from '@pipebook/shared/protocol/kernel';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  collectEvents,
  createNotebookFrom,
  kernelApi,
  notebookFile,
  page,
  runToEnd,
  withKernel,
} from './stack.ts';

const s = withKernel({ tokenMode: true, env: { PIPEBOOK_ACCESS_CACHE_MS: '0' } });
let owner: string;
let viewer: string;
let editor: string;
let stranger: string;
let nb: string;

beforeAll(async () => {
  owner = (await s.token('ada', 'Ada'))!;
  viewer = (await s.token('vic', 'Vic'))!;
  editor = (await s.token('eve', 'Eve'))!;
  stranger = (await s.token('sam', 'Sam'))!;
  nb = await createNotebookFrom(s, notebookFile([{ name: 'a', source: 'SELECT 41 + 1 AS answer' }]), owner);
  for (const [user, role] of [
    ['vic', 'viewer'],
    ['eve', 'editor'],
  ]) {
    const r = await api(s.collab.url, `/api/notebooks/${nb}/members/${user}`, {
      method: 'PUT',
      body: { role },
      token: owner,
    });
    expect(r.status).toBe(200);
  }
});

describe('access', () => {
  it('[R14] a viewer cannot run, but can read runs, events and results', async () => {
    const refused = await kernelApi<{ error: { code: string } }>(s, '/api/runs', {
      method: 'POST',
      body: { notebookId: nb, scope: 'all' },
      token: viewer,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');

    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' }, editor);
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'done' });
    expect((await page(s, nb, 'c_a', '', viewer)).body.rows).toEqual([[42]]);
    expect((await kernelApi(s, `/api/runs/${created.runId}`, { token: viewer })).status).toBe(200);
    expect(await collectEvents(s, created.runId, viewer)).toEqual(events);
    // EventSource cannot send headers: the token may come as ?token=.
    const viaQuery = await fetch(`${s.kernel.url}/api/runs/${created.runId}/events?token=${viewer}`);
    expect(viaQuery.status).toBe(200);
    await viaQuery.text();
    const cancel = await kernelApi(s, `/api/runs/${created.runId}/cancel`, { method: 'POST', token: viewer });
    expect(cancel.status).toBe(403);
  });

  it('[R14] the run summary names the person who ran it', async () => {
    const r = await kernelApi<RunCreated>(s, '/api/runs', {
      method: 'POST',
      body: { notebookId: nb, scope: 'all', force: true },
      token: editor,
    });
    expect(r.status).toBe(201);
    await collectEvents(s, r.body.runId, editor);
    const info = await kernelApi<{ by: { id: string; name: string } }>(s, `/api/runs/${r.body.runId}`, {
      token: owner,
    });
    expect(info.body.by).toEqual({ id: 'eve', name: 'Eve' });
  });

  it('[R14] no token, a bad token and a stranger are refused everywhere', async () => {
    const run = await runToEnd(s, { notebookId: nb, scope: 'all', force: true }, owner);
    const routes: Array<[string, string, unknown?]> = [
      ['POST', '/api/runs', { notebookId: nb, scope: 'all' }],
      ['GET', `/api/runs/${run.created.runId}`],
      ['GET', `/api/runs/${run.created.runId}/events`],
      ['POST', `/api/runs/${run.created.runId}/cancel`],
      ['GET', `/api/results/${nb}/c_a`],
    ];
    for (const [method, route, body] of routes) {
      const none = await kernelApi(s, route, { method, body });
      expect(none.status, `${method} ${route} without a token`).toBe(401);
      const bad = await kernelApi(s, route, { method, body, token: `${owner}x` });
      expect(bad.status, `${method} ${route} with a bad token`).toBe(401);
      const other = await kernelApi(s, route, { method, body, token: stranger });
      expect([403, 404], `${method} ${route} as a stranger`).toContain(other.status);
    }
    expect((await kernelApi(s, '/api/engines')).status).toBe(401);
    expect((await kernelApi(s, '/api/engines', { token: stranger })).status).toBe(200);
    expect((await kernelApi(s, '/api/engines/duckdb/catalog', { token: `${viewer}x` })).status).toBe(401);
  });
});
