// The Copilot's HTTP/SSE routes as the kernel mounts them (mountKernelFeatures under /api), with a notebook replica
// provided by the context, a real DuckDB engine and the OpenAI-compatible test server.
import { PipebookError, readCells } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { copilotCompiler } from '../../src/copilot/compiler.ts';
import type { CopilotEvent } from '../../src/copilot/protocol.ts';
import { type CopilotRoutesOptions, mountCopilotRoutes } from '../../src/copilot/routes.ts';
import type { KernelFeatureContext } from '../../src/http/features.ts';
import { answer, demoDoc, serveApi, testConfig, withDemoWarehouse, withModelServer } from './fixtures.ts';

const wh = withDemoWarehouse();
const model = withModelServer({ apiKey: 'test-key' });
let base: string;
let unconfigured: string;
let doc: Y.Doc;
const closers: Array<() => Promise<void> | void> = [];

function context(): KernelFeatureContext {
  return {
    home: wh.dir,
    dataDir: wh.dir,
    engines: { list: () => [wh.engine.info], get: () => wh.engine },
    openNotebook: async (id) => {
      if (id !== 'nb_1') throw new PipebookError('not_found', 'No such notebook.');
      return { doc, release: () => {} };
    },
    authorize: async (req, _id, need) => {
      const who = req.headers.authorization;
      if (!who) throw new PipebookError('unauthorized', 'Sign in.');
      if (who === 'Bearer viewer' && need !== 'viewer') throw new PipebookError('forbidden', 'Viewers cannot edit.');
      return { id: 'u_1', name: 'Grace' };
    },
  };
}

async function serve(config: CopilotRoutesOptions['config']): Promise<string> {
  const server = await serveApi((api) => mountCopilotRoutes(api, context(), { compiler: copilotCompiler, config }));
  closers.push(server.close);
  return server.url;
}

beforeAll(async () => {
  base = await serve(testConfig(model));
  unconfigured = await serve({ missing: 'No model is configured (PIPEBOOK_COPILOT_MODEL).' });
});
afterAll(async () => {
  for (const c of closers) await c();
});

async function* sse(res: Response): AsyncGenerator<CopilotEvent> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end = buf.indexOf('\n\n');
    while (end !== -1) {
      const data = buf
        .slice(0, end)
        .split('\n')
        .find((l) => l.startsWith('data: '));
      buf = buf.slice(end + 2);
      if (data) yield JSON.parse(data.slice(6)) as CopilotEvent;
      end = buf.indexOf('\n\n');
    }
  }
}

function post(url: string, body: unknown, token = 'editor') {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

describe('Copilot HTTP', () => {
  it('reports its status without the key, and how to configure when it is not', async () => {
    const on = await (await fetch(`${base}/api/copilot/status`)).json();
    expect(on).toEqual({ configured: true, model: 'test-model', endpoint: new URL(model.baseURL).origin });
    expect(JSON.stringify(on)).not.toContain('test-key');
    const off = await (await fetch(`${unconfigured}/api/copilot/status`)).json();
    expect(off).toMatchObject({ configured: false, howTo: expect.stringMatching(/PIPEBOOK_COPILOT_MODEL/) });
    const res = await post(`${unconfigured}/api/copilot/notebooks/nb_1/generate`, { request: 'x' });
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/OPENAI_BASE_URL/),
    });
  });

  it('refuses bad bodies, anonymous callers and viewers as JSON errors before streaming', async () => {
    expect((await post(`${base}/api/copilot/notebooks/nb_1/generate`, { request: '' })).status).toBe(400);
    const anon = await fetch(`${base}/api/copilot/notebooks/nb_1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"request":"x"}',
    });
    expect(anon.status).toBe(401);
    expect((await post(`${base}/api/copilot/notebooks/nb_1/generate`, { request: 'x' }, 'viewer')).status).toBe(403);
  });

  it('streams attempts, tokens, checks and a verified proposal, then inserts it on accept', async () => {
    doc = demoDoc().doc;
    model.script({ type: 'content', content: answer([{ name: 'n_orders', sql: 'SELECT COUNT(*) AS n FROM orders' }]) });
    const res = await post(`${base}/api/copilot/notebooks/nb_1/generate`, { request: 'count the orders' });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events: CopilotEvent[] = [];
    for await (const e of sse(res)) events.push(e);
    const types = [...new Set(events.map((e) => e.type))];
    expect(types).toEqual(['started', 'context', 'attempt', 'token', 'check', 'proposal', 'done']);
    const proposal = events.find((e) => e.type === 'proposal')!.proposal;
    expect(proposal).toMatchObject({ verified: true, askedBy: { id: 'u_1', name: 'Grace' } });
    expect(events.filter((e) => e.type === 'check').map((e) => e.result.check)).toEqual([
      'schema',
      'names',
      'compile',
      'engine',
    ]);

    const acc = await post(`${base}/api/copilot/notebooks/nb_1/proposals/${proposal.id}/accept`, {});
    expect(acc.status).toBe(200);
    const { cellIds } = await acc.json();
    expect(readCells(doc).find((c) => c.id === cellIds[0])?.name).toBe('n_orders');
    // A proposal is used once.
    expect((await post(`${base}/api/copilot/notebooks/nb_1/proposals/${proposal.id}/accept`, {})).status).toBe(404);
  });

  it('needs allowFailing to insert an unverified draft', async () => {
    doc = demoDoc().doc;
    const bad = { type: 'content' as const, content: answer([{ name: 'ghost', sql: 'SELECT * FROM no_such_table' }]) };
    model.script(bad, bad, bad);
    const events: CopilotEvent[] = [];
    for await (const e of sse(await post(`${base}/api/copilot/notebooks/nb_1/generate`, { request: 'ghosts' })))
      events.push(e);
    const proposal = events.find((e) => e.type === 'proposal')!.proposal;
    expect(proposal.verified).toBe(false);
    const url = `${base}/api/copilot/notebooks/nb_1/proposals/${proposal.id}/accept`;
    expect((await post(url, {})).status).toBe(400);
    expect((await post(url, { allowFailing: true })).status).toBe(200);
    expect(readCells(doc).some((c) => c.name === 'ghost')).toBe(true);
  });

  it('cancels through the cancel route and when the client goes away', async () => {
    doc = demoDoc().doc;
    const aborted0 = model.aborted;
    model.script({ type: 'hang' });
    const res = await post(`${base}/api/copilot/notebooks/nb_1/generate`, { request: 'slow' });
    const it = sse(res);
    const started = (await it.next()).value as Extract<CopilotEvent, { type: 'started' }>;
    expect((await post(`${base}/api/copilot/requests/${started.requestId}/cancel`, {})).status).toBe(200);
    const rest: CopilotEvent[] = [];
    for await (const e of it) rest.push(e);
    expect(rest.at(-1)).toEqual({ type: 'error', error: { code: 'cancelled', message: 'Cancelled.' } });
    await expect.poll(() => model.aborted, { timeout: 5_000 }).toBe(aborted0 + 1);

    const abortedBefore = model.aborted;
    const requestsBefore = model.requests.length;
    model.script({ type: 'hang' });
    const controller = new AbortController();
    const res2 = await fetch(`${base}/api/copilot/notebooks/nb_1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer editor' },
      body: '{"request":"slow again"}',
      signal: controller.signal,
    });
    const it2 = sse(res2);
    await it2.next();
    await expect.poll(() => model.requests.length, { timeout: 5_000 }).toBe(requestsBefore + 1);
    controller.abort();
    // The kernel stops the model call: the test server sees its request closed.
    await expect.poll(() => model.aborted, { timeout: 5_000 }).toBe(abortedBefore + 1);
  });

  it('explains a cell as a viewer', async () => {
    const d = demoDoc();
    doc = d.doc;
    model.script({ type: 'content', content: 'Keeps paid orders.' });
    const events: CopilotEvent[] = [];
    for await (const e of sse(
      await post(`${base}/api/copilot/notebooks/nb_1/explain`, { cellId: d.ids.paid_orders }, 'viewer'),
    ))
      events.push(e);
    expect(events.find((e) => e.type === 'explanation')).toEqual({ type: 'explanation', text: 'Keeps paid orders.' });
  });
});
