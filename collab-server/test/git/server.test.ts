// The Git routes on a real collab server process, with two real y-websocket clients connected while a snapshot is
// restored and the restore is undone; roles checked in token mode.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { type GitHttpServer, startGitHttpServer } from './git-http-server.ts';

const SECRET = 'test-jwt-secret-which-is-long-enough';
let server: CollabProcess;
let ada: string; // owner
let bob: string; // editor
let eve: string; // viewer
const clients: TestClient[] = [];
let gitServer: GitHttpServer;
let gitRoot: string;

beforeAll(async () => {
  server = await startCollabProcess({ PIPEBOOK_JWT_SECRET: SECRET, PIPEBOOK_GIT_TOKEN_TEST: 'x' });
  ada = await signUserToken(SECRET, { id: 'ada', name: 'Ada' });
  bob = await signUserToken(SECRET, { id: 'bob', name: 'Bob' });
  eve = await signUserToken(SECRET, { id: 'eve', name: 'Eve' });
  gitRoot = mkdtempSync(join(tmpdir(), 'pipebook-gitsrv-'));
  gitServer = await startGitHttpServer(gitRoot, { bearer: 'x' });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.cleanup();
  await gitServer?.close();
  if (gitRoot) rmSync(gitRoot, { recursive: true, force: true });
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

describe('branches, merge, import, push over the API', () => {
  it('merges a branch into the live notebook with one conflict reported, imports a project, pushes', async () => {
    const id = await createNotebook(server.url, { template: 'demo' }, ada);
    const a = newClient(server.url, id, { token: ada });
    clients.push(a);
    await a.synced();
    const git = (path: string) => `/api/notebooks/${id}/git${path}`;
    const post = <T>(path: string, body: unknown) =>
      api<T>(server.url, git(path), { method: 'POST', body, token: ada });
    const TOP = 'demo_top_countries' as CellId;
    /** Waits until the server's live notebook holds `sources` (cell id -> source). */
    const serverHas = (sources: Record<string, string>) =>
      waitFor(
        async () => {
          const live = await api<{ state: { cells: Array<{ id: string; source: string }> } }>(
            server.url,
            git('/snapshots/live'),
            { token: ada },
          );
          return Object.entries(sources).every(
            ([cid, src]) => live.body.state.cells.find((c) => c.id === cid)?.source === src,
          );
        },
        10_000,
        'edits on the server',
      );
    const INTRO = 'demo_intro' as CellId;

    expect((await post('/snapshot', { message: 'Base' })).status).toBe(201);
    expect((await post('/branches', { name: 'feature' })).status).toBe(201);
    setSource(a.doc, TOP, 'SELECT 1 AS main_side');
    setSource(a.doc, INTRO, '# main intro');
    await serverHas({ [TOP]: 'SELECT 1 AS main_side', [INTRO]: '# main intro' });
    expect((await post('/snapshot', { message: 'Main edits' })).status).toBe(201);

    const switched = await post<{ restoreId: string }>('/branches/switch', { name: 'feature' });
    expect(switched.status).toBe(200);
    await waitFor(
      () => readCell(a.doc, TOP)?.source !== 'SELECT 1 AS main_side',
      10_000,
      'client sees the feature branch',
    );
    setSource(a.doc, TOP, 'SELECT 2 AS feature_side');
    setSource(a.doc, CLEAN, 'SELECT * FROM orders');
    await serverHas({ [TOP]: 'SELECT 2 AS feature_side', [CLEAN]: 'SELECT * FROM orders' });
    expect((await post('/snapshot', { message: 'Feature edits' })).status).toBe(201);

    expect((await post('/branches/switch', { name: 'main' })).status).toBe(200);
    await waitFor(() => readCell(a.doc, TOP)?.source === 'SELECT 1 AS main_side', 10_000, 'client back on main');
    const merged = await post<{ kind: string; conflicts: Array<{ id: string; reason: string }>; restoreId: string }>(
      '/merge',
      {
        branch: 'feature',
      },
    );
    expect(merged.body.kind).toBe('merge');
    expect(merged.body.conflicts.map((c) => [c.id, c.reason])).toEqual([[TOP, 'both_changed']]);
    await waitFor(
      () => readCell(a.doc, CLEAN)?.source === 'SELECT * FROM orders',
      10_000,
      'merged cell reaches the client',
    );
    expect(readCell(a.doc, TOP)?.source).toBe('SELECT 1 AS main_side');
    expect(readCell(a.doc, INTRO)?.source).toBe('# main intro');

    // Import a plain dbt project into the live notebook (undoable like a restore).
    const imported = await post<{ cells: number; restoreId: string }>('/import', {
      files: [
        {
          path: 'shop/models/sources.yml',
          content: 'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n',
        },
        {
          path: 'shop/models/paid.sql',
          content: "SELECT * FROM {{ source('raw', 'orders') }} WHERE status = 'paid'\n",
        },
      ],
    });
    expect(imported.body.cells).toBe(2);
    await waitFor(() => a.doc.getMap('cells').size === 2, 10_000, 'import reaches the client');
    await post('/restore/undo', { restoreId: imported.body.restoreId });
    await waitFor(() => readCell(a.doc, CLEAN)?.source === 'SELECT * FROM orders', 10_000, 'import undone');

    // Push to a real smart-HTTP server with the token from the server's environment.
    const url = gitServer.createRepo(id);
    expect(
      (
        await api(server.url, git('/remote'), {
          method: 'PUT',
          body: { url, tokenEnv: 'PIPEBOOK_GIT_TOKEN_TEST' },
          token: ada,
        })
      ).status,
    ).toBe(200);
    const pushed = await post<{ status: string; branch: string }>('/push', {});
    expect(pushed.body).toMatchObject({ status: 'new', branch: 'main' });
    const pulled = await post<{ kind: string }>('/pull', {});
    expect(pulled.body.kind).toBe('up_to_date');
    expect(gitServer.seenAuth).toContain('Bearer x');

    // Automatic snapshots can be switched on per notebook.
    expect((await api(server.url, git('/auto'), { method: 'PUT', body: { minutes: 10 }, token: bob })).status).toBe(
      403,
    );
    const auto = await api<{ minutes: number }>(server.url, git('/auto'), {
      method: 'PUT',
      body: { minutes: 10 },
      token: ada,
    });
    expect(auto.body).toEqual({ minutes: 10 });
  });
});
