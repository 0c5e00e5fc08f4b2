// The Copilot through a real kernel (startKernel) and collaboration server: auth by notebook role, the kernel's own
// replica of the notebook, insertion seen by another collaborator, and the inserted cell run by the kernel.
import { readCells } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import type { OpenAiTestServer } from '../servers/openai/server.ts';
import {
  api,
  createNotebookFrom,
  finished,
  newClient,
  notebookFile,
  page,
  runToEnd,
  waitFor,
  withKernel,
} from '../stack.ts';
import { answer, readCopilotEvents, startOpenAiTestServer } from './fixtures.ts';

let model: OpenAiTestServer;
const savedEnv = { ...process.env };

const s = withKernel({
  tokenMode: true,
  demoOrders: 2_000,
  async before() {
    model = await startOpenAiTestServer({ apiKey: 'kernel-key' });
    // The kernel reads the Copilot endpoint from its environment when it mounts the routes.
    process.env.OPENAI_BASE_URL = model.baseURL;
    process.env.OPENAI_API_KEY = 'kernel-key';
    process.env.PIPEBOOK_COPILOT_MODEL = 'test-model';
  },
  async after() {
    await model?.close();
    process.env = savedEnv;
  },
});

describe('Copilot through the kernel', () => {
  it('generates, verifies and inserts cells a collaborator sees, which the kernel then runs', async () => {
    const alice = await s.token('alice', 'Alice');
    const bob = await s.token('bob', 'Bob');
    const notebookId = await createNotebookFrom(
      s,
      notebookFile([{ name: 'orders_src', kind: 'source', config: { type: 'table', table: 'orders' } }]),
      alice,
    );
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${s.kernel.url}/api/copilot/notebooks/${notebookId}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });

    expect((await post('/generate', { request: 'x' })).status).toBe(401);
    // Bob may read the notebook but not edit it: he cannot ask for cells.
    const member = await api(s.collab.url, `/api/notebooks/${notebookId}/members/bob`, {
      method: 'PUT',
      body: { role: 'viewer', name: 'Bob' },
      token: alice,
    });
    expect(member.status).toBeLessThan(300);
    expect((await post('/generate', { request: 'x' }, bob)).status).toBe(403);

    model.script({
      type: 'content',
      content: answer([{ name: 'status_counts', sql: 'SELECT status, count(*) AS n FROM orders_src GROUP BY status' }]),
    });
    const res = await post('/generate', { request: 'orders per status', afterCellId: 'c_orders_src' }, alice);
    expect(res.status).toBe(200);
    const evs = await readCopilotEvents(res);
    const proposal = evs.find((e) => e.type === 'proposal')?.proposal;
    expect(proposal).toMatchObject({ verified: true, askedBy: { id: 'alice', name: 'Alice' } });
    // The context the model saw came from the kernel's catalog and replica.
    const prompt = String(model.requests[0].body.messages[1].content);
    expect(prompt).toContain('### orders_src (source)');
    expect(prompt).toMatch(/- orders\(order_id BIGINT/);

    const accepted = await post(`/proposals/${proposal!.id}/accept`, {}, alice);
    expect(accepted.status).toBe(200);
    const { cellIds } = (await accepted.json()) as { cellIds: string[] };

    const client = newClient(s.collab.url, notebookId, { token: bob });
    try {
      await client.synced();
      await waitFor(() => readCells(client.doc).some((c) => c.name === 'status_counts'), 5_000, 'the inserted cell');
      expect(readCells(client.doc).find((c) => c.name === 'status_counts')?.source).toContain(
        '-- Copilot, asked by Alice',
      );
    } finally {
      client.destroy();
    }

    const { events: runEvents } = await runToEnd(s, { notebookId, scope: 'cell', cellId: cellIds[0] }, alice);
    expect(finished(runEvents).get(cellIds[0])?.status).toBe('done');
    const rows = await page(s, notebookId, cellIds[0], '', alice);
    expect(rows.body.rowCount).toBe(4);
  });
});
