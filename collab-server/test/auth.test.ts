// Token mode: S5 (viewers), S6 (revocation), S7 (bad tokens), the access check the kernel uses, and sharing.
import { addCell, exportNotebook } from '@pipebook/shared';
import { signServiceToken, signUserToken } from '@pipebook/shared/auth/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type CollabProcess, createNotebook, newClient, startCollabProcess, waitFor } from './helpers.ts';

const SECRET = 'test-jwt-secret-which-is-long-enough';
const SERVICE = 'test-service-secret';
let server: CollabProcess;
let ada: string;
let bob: string;
let eve: string;

beforeAll(async () => {
  server = await startCollabProcess({ PIPEBOOK_JWT_SECRET: SECRET, PIPEBOOK_SERVICE_SECRET: SERVICE });
  ada = await signUserToken(SECRET, { id: 'ada', name: 'Ada' });
  bob = await signUserToken(SECRET, { id: 'bob', name: 'Bob' });
  eve = await signUserToken(SECRET, { id: 'eve', name: 'Eve' });
});
afterAll(async () => {
  await server?.cleanup();
});

/** Resolves with the first close event the provider sees. */
function nextClose(client: ReturnType<typeof newClient>): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    client.provider.once('connection-close', (event: CloseEvent | null) => {
      resolve({ code: event?.code ?? -1, reason: String(event?.reason ?? '') });
    });
  });
}

describe('token auth', () => {
  it('[S7] refuses a socket with a bad, expired or missing token with 4401 and a reason', async () => {
    const id = await createNotebook(server.url, {}, ada);
    const forged = await signUserToken('another-secret-entirely-and-long', { id: 'ada' });
    const expired = await signUserToken(SECRET, { id: 'ada' }, { expiresIn: -10 });
    for (const token of [forged, expired, 'not-a-jwt', undefined]) {
      const c = newClient(server.url, id, { token });
      const closed = await nextClose(c);
      c.destroy();
      expect(closed.code).toBe(4401);
      expect(closed.reason.length).toBeGreaterThan(0);
    }
    const expiredClient = newClient(server.url, id, { token: expired });
    expect((await nextClose(expiredClient)).reason).toMatch(/expired/i);
    expiredClient.destroy();
  });

  it('[S7] refuses a valid user without a role on the notebook with 4403', async () => {
    const id = await createNotebook(server.url, {}, ada);
    const c = newClient(server.url, id, { token: eve });
    const closed = await nextClose(c);
    c.destroy();
    expect(closed.code).toBe(4403);
  });

  it('rejects HTTP calls without a valid bearer token with 401 and a JSON error', async () => {
    const r = await api<{ error: { code: string } }>(server.url, '/api/notebooks');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
  });

  it('[S5] a viewer syncs and shows presence, but its updates are refused and never stored', async () => {
    const id = await createNotebook(server.url, { template: 'demo' }, ada);
    const share = await api(server.url, `/api/notebooks/${id}/members/bob`, {
      method: 'PUT',
      body: { role: 'viewer', name: 'Bob' },
      token: ada,
    });
    expect(share.status).toBe(200);
    const owner = newClient(server.url, id, { token: ada });
    const viewer = newClient(server.url, id, { token: bob });
    try {
      await Promise.all([owner.synced(), viewer.synced()]);
      expect(exportNotebook(viewer.doc).cells.length).toBe(exportNotebook(owner.doc).cells.length);
      addCell(viewer.doc, { kind: 'sql', name: 'viewer_cell', source: 'SELECT 1' });
      // Presence goes out on the same socket after the update, so once the owner sees it the update was handled.
      viewer.provider.awareness.setLocalStateField('user', { name: 'Bob' });
      await waitFor(
        () =>
          [...owner.provider.awareness.getStates().values()].some(
            (s) => (s as { user?: { name?: string } }).user?.name === 'Bob',
          ),
        5000,
        'viewer presence',
      );
      expect(exportNotebook(owner.doc).cells.some((c) => c.name === 'viewer_cell')).toBe(false);
      const exported = await api<{ cells: Array<{ name: string }> }>(server.url, `/api/notebooks/${id}/export`, {
        token: ada,
      });
      expect(exported.body.cells.some((c) => c.name === 'viewer_cell')).toBe(false);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/pipebook_collab_updates_refused_total [1-9]/);
    } finally {
      owner.destroy();
      viewer.destroy();
    }
    // Nothing of it reached the store either: a fresh load after everyone left does not have it.
    const fresh = newClient(server.url, id, { token: ada });
    await fresh.synced();
    expect(exportNotebook(fresh.doc).cells.some((c) => c.name === 'viewer_cell')).toBe(false);
    fresh.destroy();
  });

  it('[S6] revoking a member closes their socket within a second (4403), and they cannot rejoin', async () => {
    const id = await createNotebook(server.url, {}, ada);
    await api(server.url, `/api/notebooks/${id}/members/bob`, { method: 'PUT', body: { role: 'editor' }, token: ada });
    const bobClient = newClient(server.url, id, { token: bob });
    await bobClient.synced();
    const closed = nextClose(bobClient);
    const t0 = Date.now();
    const r = await api(server.url, `/api/notebooks/${id}/members/bob`, { method: 'DELETE', token: ada });
    expect(r.status).toBe(204);
    const event = await closed;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(event.code).toBe(4403);
    // The stock client stops reconnecting on 44xx codes; a deliberate reconnect is refused too.
    const again = nextClose(bobClient);
    bobClient.provider.connect();
    expect((await again).code).toBe(4403);
    const closedAgain = await again;
    expect(closedAgain.reason).toMatch(/access/);
    bobClient.destroy();
  });

  it('[S6] downgrading an editor to viewer takes effect on the open socket', async () => {
    const id = await createNotebook(server.url, {}, ada);
    await api(server.url, `/api/notebooks/${id}/members/bob`, { method: 'PUT', body: { role: 'editor' }, token: ada });
    const owner = newClient(server.url, id, { token: ada });
    const b = newClient(server.url, id, { token: bob });
    try {
      await Promise.all([owner.synced(), b.synced()]);
      addCell(b.doc, { kind: 'sql', name: 'before', source: '' });
      await waitFor(() => exportNotebook(owner.doc).cells.some((c) => c.name === 'before'), 5000, 'editor write');
      await api(server.url, `/api/notebooks/${id}/members/bob`, {
        method: 'PUT',
        body: { role: 'viewer' },
        token: ada,
      });
      addCell(b.doc, { kind: 'sql', name: 'after', source: '' });
      b.provider.awareness.setLocalStateField('user', { name: 'Bob2' });
      await waitFor(
        () =>
          [...owner.provider.awareness.getStates().values()].some(
            (s) => (s as { user?: { name?: string } }).user?.name === 'Bob2',
          ),
        5000,
        'presence after downgrade',
      );
      expect(exportNotebook(owner.doc).cells.some((c) => c.name === 'after')).toBe(false);
    } finally {
      owner.destroy();
      b.destroy();
    }
  });

  it('lists only the notebooks a user is a member of, with their role; owners alone manage members', async () => {
    const id = await createNotebook(server.url, { title: 'Shared with Bob' }, ada);
    await createNotebook(server.url, { title: 'Private to Ada' }, ada);
    await api(server.url, `/api/notebooks/${id}/members/bob`, { method: 'PUT', body: { role: 'viewer' }, token: ada });
    const list = await api<Array<{ id: string; title: string; role: string }>>(server.url, '/api/notebooks', {
      token: bob,
    });
    const mine = list.body.find((n) => n.id === id);
    expect(mine?.role).toBe('viewer');
    expect(list.body.some((n) => n.title === 'Private to Ada')).toBe(false);
    const members = await api(server.url, `/api/notebooks/${id}/members`, { token: bob });
    expect(members.status).toBe(403);
    const asOwner = await api<Array<{ userId: string; role: string; name: string }>>(
      server.url,
      `/api/notebooks/${id}/members`,
      { token: ada },
    );
    expect(asOwner.body).toEqual(
      expect.arrayContaining([
        { userId: 'ada', name: 'Ada', role: 'owner' },
        { userId: 'bob', name: 'Bob', role: 'viewer' },
      ]),
    );
    const lastOwner = await api(server.url, `/api/notebooks/${id}/members/ada`, { method: 'DELETE', token: ada });
    expect(lastOwner.status).toBe(409);
    const del = await api(server.url, `/api/notebooks/${id}`, { method: 'DELETE', token: bob });
    expect(del.status).toBe(403);
  });

  it('answers the access check the kernel makes, and treats the service token as an editor everywhere', async () => {
    const id = await createNotebook(server.url, { template: 'demo' }, ada);
    const access = await api(server.url, `/api/notebooks/${id}/access`, { token: ada });
    expect(access).toEqual({ status: 200, body: { role: 'owner', user: { id: 'ada', name: 'Ada' } } });
    expect((await api(server.url, `/api/notebooks/${id}/access`, { token: eve })).status).toBe(403);
    expect((await api(server.url, '/api/notebooks/nb_missing/access', { token: ada })).status).toBe(404);
    const service = await signServiceToken(SERVICE);
    const svcAccess = await api<{ role: string; user: { id: string } }>(server.url, `/api/notebooks/${id}/access`, {
      token: service,
    });
    expect(svcAccess.body.role).toBe('editor');
    expect(svcAccess.body.user.id).toBe('pipebook-kernel');
    // A service token signed with the wrong secret is refused.
    const fake = await signServiceToken('wrong-service-secret');
    expect((await api(server.url, `/api/notebooks/${id}/access`, { token: fake })).status).toBe(401);
    // The kernel writes through the socket like any editor.
    const kernel = newClient(server.url, id, { token: service });
    const owner = newClient(server.url, id, { token: ada });
    try {
      await Promise.all([kernel.synced(), owner.synced()]);
      addCell(kernel.doc, { kind: 'sql', name: 'from_kernel', source: '' });
      await waitFor(() => exportNotebook(owner.doc).cells.some((c) => c.name === 'from_kernel'), 5000, 'kernel write');
    } finally {
      kernel.destroy();
      owner.destroy();
    }
  });
});
