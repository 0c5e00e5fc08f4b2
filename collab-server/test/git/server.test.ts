// The Git routes on a real collab server process, with two real y-websocket clients connected while a snapshot is
// restored and the restore is undone; roles checked in token mode.
import { type CellId, readCell, setSource } from '@pipebook/shared';
import { signUserToken } from '@pipebook/shared/auth/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from '../helpers.ts';

const SECRET = 'test-jwt-secret-which-is-long-enough';
let server: CollabProcess;
let ada: string; // owner
let bob: string; // editor
let eve: string; // viewer
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startCollabProcess({ PIPEBOOK_JWT_SECRET: SECRET, PIPEBOOK_GIT_TOKEN_TEST: 'x' });
  ada = await signUserToken(SECRET, { id: 'ada', name: 'Ada' });
  bob = await signUserToken(SECRET, { id: 'bob', name: 'Bob' });
  eve = await signUserToken(SECRET, { id: 'eve', name: 'Eve' });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.cleanup();
});

const CLEAN = 'demo_orders_clean' as CellId;
const sourceOf = (c: TestClient) => readCell(c.doc, CLEAN)?.source;

describe('git routes with live clients', () => {
  it('snapshot, diff, restore seen by both clients, undo, roles, export', async () => {
    const id = await createNotebook(server.url, { template: 'demo' }, ada);
    for (const [user, role] of [
      ['bob', 'editor'],
      ['eve', 'viewer'],
    ]) {
      const r = await api(server.url, `/api/notebooks/${id}/members/${user}`, {
        method: 'PUT',
        body: { role },
        token: ada,
      });
      expect(r.status).toBeLessThan(300);
    }
    const a = newClient(server.url, id, { token: ada });
    const b = newClient(server.url, id, { token: bob });
    clients.push(a, b);
    await Promise.all([a.synced(), b.synced()]);
    const original = sourceOf(a)!;
    expect(sourceOf(b)).toBe(original);

    const git = (path: string) => `/api/notebooks/${id}/git${path}`;
    // Viewers read but cannot write; a message is required.
    expect((await api(server.url, git('/history'), { token: eve })).status).toBe(200);
    expect(
      (await api(server.url, git('/snapshot'), { method: 'POST', body: { message: 'x' }, token: eve })).status,
    ).toBe(403);
    const noMessage = await api<{ error: { code: string } }>(server.url, git('/snapshot'), {
      method: 'POST',
      body: {},
      token: bob,
    });
    expect(noMessage.status).toBe(400);

    const v1 = await api<{ commit: string; created: boolean }>(server.url, git('/snapshot'), {
      method: 'POST',
      body: { message: 'Before cleaning change' },
      token: bob,
    });
    expect(v1.status).toBe(201);

    setSource(a.doc, CLEAN, 'SELECT * FROM orders WHERE amount > 100');
    await waitFor(() => sourceOf(b) === 'SELECT * FROM orders WHERE amount > 100', 10_000, 'edit reaches B');
    const v2 = await api<{ commit: string }>(server.url, git('/snapshot'), {
      method: 'POST',
      body: { message: 'Big orders only' },
      token: bob,
    });
    expect(v2.status).toBe(201);

    const diff = await api<{ cells: Array<{ id: string; status: string; diff: string }> }>(
      server.url,
      git(`/diff?from=${v1.body.commit}&to=${v2.body.commit}`),
      { token: eve },
    );
    expect(diff.body.cells.map((c) => [c.id, c.status])).toEqual([[CLEAN, 'changed']]);
    expect(diff.body.cells[0].diff).toContain('+SELECT * FROM orders WHERE amount > 100');

    const history = await api<{ snapshots: Array<{ message: string; author: { name: string } }> }>(
      server.url,
      git('/history'),
      { token: eve },
    );
    expect(history.body.snapshots.map((s) => [s.message, s.author.name])).toEqual([
      ['Big orders only', 'Bob'],
      ['Before cleaning change', 'Bob'],
    ]);

    // Restore v1: both connected clients see it.
    expect(
      (await api(server.url, git('/restore'), { method: 'POST', body: { rev: v1.body.commit }, token: eve })).status,
    ).toBe(403);
    const restored = await api<{ restoreId: string }>(server.url, git('/restore'), {
      method: 'POST',
      body: { rev: v1.body.commit },
      token: bob,
    });
    expect(restored.status).toBe(200);
    await waitFor(() => sourceOf(a) === original && sourceOf(b) === original, 10_000, 'restore reaches both clients');

    // Undo the restore: both see the edit again.
    const undo = await api<{ undone: boolean }>(server.url, git('/restore/undo'), {
      method: 'POST',
      body: { restoreId: restored.body.restoreId },
      token: bob,
    });
    expect(undo.body).toEqual({ undone: true });
    const edited = 'SELECT * FROM orders WHERE amount > 100';
    await waitFor(() => sourceOf(a) === edited && sourceOf(b) === edited, 10_000, 'undo reaches both clients');

    // Remotes are managed by owners only; the token never leaves the server.
    const remote = { url: 'http://127.0.0.1:9/x.git', tokenEnv: 'PIPEBOOK_GIT_TOKEN_TEST' };
    expect((await api(server.url, git('/remote'), { method: 'PUT', body: remote, token: bob })).status).toBe(403);
    const set = await api<{ remote: { tokenPresent: boolean } }>(server.url, git('/remote'), {
      method: 'PUT',
      body: remote,
      token: ada,
    });
    expect(set.status).toBe(200);
    expect(set.body.remote).toEqual({ ...remote, tokenPresent: true });

    // Export: JSON listing and a zip download, readable by viewers.
    const listing = await api<{ files: Array<{ path: string; content: string }> }>(
      server.url,
      git('/export?format=json'),
      { token: eve },
    );
    expect(listing.body.files.find((f) => f.path === 'models/orders_clean.sql')!.content).toContain(
      `{{ source('main', 'orders') }}`,
    );
    const zip = await fetch(`${server.url}${git('/export')}`, { headers: { authorization: `Bearer ${eve}` } });
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(Buffer.from(await zip.arrayBuffer()).readUInt32LE(0)).toBe(0x04034b50);

    // Hostile input is refused before git sees it.
    const bad = await api<{ error: { code: string } }>(server.url, git('/branches'), {
      method: 'POST',
      body: { name: '--upload-pack=x' },
      token: bob,
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_name']);
    const badRev = await api<{ error: { code: string } }>(server.url, git('/diff?from=--output=/tmp/x'), {
      token: eve,
    });
    expect([badRev.status, badRev.body.error.code]).toEqual([400, 'invalid_name']);
  });
});
