// Scale-out over Redis (docs/deployment.md, rules C5-C7): leased compaction, access changes and startup across
// collab-server processes sharing one PIPEBOOK_HOME and one real redis-server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addCell } from '@pipebook/shared';
import { signUserToken } from '@pipebook/shared/auth/tokens';
import { afterEach, describe, expect, it } from 'vitest';
import { contentOf, randomEdit } from '../editing.ts';
import { api, createNotebook, newClient, startCollabProcess, waitFor } from '../helpers.ts';
import { mulberry32 } from '../random.ts';
import {
  allSame,
  cleanups,
  expectEveryTagOnce,
  metric,
  newWriter,
  runCleanups,
  startCluster,
} from './cluster-helpers.ts';
import { startRedis } from './redis-process.ts';

afterEach(runCleanups);

describe('collab cluster compaction', () => {
  it('[C5] logs grown on two instances are compacted under a lease on the shared store; nothing is lost', async () => {
    const cluster = await startCluster(2);
    const [a, b] = cluster.instances;
    const id = await createNotebook(a.url, { template: 'demo' });
    const writers = [newWriter(a.url, id), newWriter(b.url, id)];
    await Promise.all(writers.map((w) => w.synced()));
    const rand = mulberry32(21);
    // Big inserts from both sides push each instance's log past the compaction threshold (16 KB).
    for (let i = 0; i < 40; i++) {
      const w = writers[i % 2];
      const tag = `<big${i}:${'x'.repeat(1500)}>`;
      w.tags.push(tag);
      randomEdit(w.doc, rand, tag, false, false);
      await new Promise((r) => setTimeout(r, 5));
    }
    const docs = writers.map((w) => w.doc);
    await waitFor(() => allSame(docs), 10_000, 'convergence');
    await waitFor(
      async () =>
        (await metric(a, 'pipebook_cluster_compactions_total')) +
          (await metric(b, 'pipebook_cluster_compactions_total')) >
        0,
      10_000,
      'a compaction',
    );
    // Whatever was compacted, a fresh instance loading the store sees every update.
    const c = await cluster.start();
    const fresh = newClient(c.url, id);
    cleanups.push(() => fresh.destroy());
    await fresh.synced();
    expect(contentOf(fresh.doc)).toBe(contentOf(docs[0]));
    expectEveryTagOnce(fresh.doc, writers);
  });
});

describe('collab cluster access', () => {
  it('[C6] a role change or revocation made on one instance applies at once to sockets on another (S6)', async () => {
    const secret = 'cluster-test-jwt-secret-long-enough';
    const cluster = await startCluster(2, { PIPEBOOK_JWT_SECRET: secret });
    const [a, b] = cluster.instances;
    const ada = await signUserToken(secret, { id: 'ada', name: 'Ada' });
    const bob = await signUserToken(secret, { id: 'bob', name: 'Bob' });
    const id = await createNotebook(a.url, {}, ada);
    await api(a.url, `/api/notebooks/${id}/members/bob`, { method: 'PUT', body: { role: 'editor' }, token: ada });
    const owner = newClient(a.url, id, { token: ada });
    const bobOnB = newClient(b.url, id, { token: bob });
    cleanups.push(() => owner.destroy());
    cleanups.push(() => bobOnB.destroy());
    await Promise.all([owner.synced(), bobOnB.synced()]);
    addCell(bobOnB.doc, { kind: 'sql', source: '-- bob as editor' });
    await waitFor(() => contentOf(owner.doc).includes('bob as editor'), 5000, 'editor edit crosses');

    // Downgraded on A: B refuses bob's updates on the open socket.
    await api(a.url, `/api/notebooks/${id}/members/bob`, { method: 'PUT', body: { role: 'viewer' }, token: ada });
    const refusedBefore = await metric(b, 'pipebook_collab_updates_refused_total');
    let n = 0;
    await waitFor(
      async () => {
        addCell(bobOnB.doc, { kind: 'sql', source: `-- bob as viewer ${n++}` });
        return (await metric(b, 'pipebook_collab_updates_refused_total')) > refusedBefore;
      },
      5000,
      'viewer refused on the other instance',
    );

    // Revoked on A: bob's socket on B closes with 4403 within a second.
    const closed = new Promise<number>((resolve) => {
      bobOnB.provider.once('connection-close', (event: CloseEvent | null) => resolve(event?.code ?? -1));
    });
    const t0 = Date.now();
    const r = await api(a.url, `/api/notebooks/${id}/members/bob`, { method: 'DELETE', token: ada });
    expect(r.status).toBe(204);
    expect(await closed).toBe(4403);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('collab cluster start', () => {
  it('[C7] three instances started at once on an empty shared store create one demo notebook, not three', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-cluster-'));
    cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
    const env = { PIPEBOOK_HOME: home, PIPEBOOK_REDIS_URL: redis.url, PIPEBOOK_SEED_DEMO: '1' };
    const instances = await Promise.all([0, 1, 2].map(() => startCollabProcess(env)));
    for (const p of instances) cleanups.push(() => p.kill());
    for (const p of instances) {
      const r = await api<Array<{ id: string }> | { notebooks: Array<{ id: string }> }>(p.url, '/api/notebooks');
      const list = Array.isArray(r.body) ? r.body : r.body.notebooks;
      expect(list.length).toBe(1);
    }
  });
});

describe('collab cluster Git', () => {
  it('[C8] snapshots taken at once on two instances of one notebook all succeed, one commit per distinct content', async () => {
    const cluster = await startCluster(2);
    const [a, b] = cluster.instances;
    const id = await createNotebook(a.url, { template: 'demo' });
    const writer = newClient(a.url, id);
    cleanups.push(() => writer.destroy());
    await writer.synced();
    const snap = (url: string, i: number) =>
      api<{ commit: string; created: boolean }>(url, `/api/notebooks/${id}/git/snapshot`, {
        method: 'POST',
        body: { message: `snapshot ${i}` },
      });
    const rand = mulberry32(31);
    for (let round = 0; round < 4; round++) {
      randomEdit(writer.doc, rand, `<round ${round}>`, false, false);
      // Both instances hold the edit before the snapshots race.
      await Promise.all(
        [a, b].map(async (p) => {
          const probe = newClient(p.url, id);
          try {
            await probe.synced();
            await waitFor(() => contentOf(probe.doc).includes(`<round ${round}>`), 5000, 'edit on both');
          } finally {
            probe.destroy();
          }
        }),
      );
      const results = await Promise.all([a, b, a, b, a, b].map((p, i) => snap(p.url, i)));
      expect(results.map((r) => r.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
      // The same content, so exactly one of them made a commit.
      expect(results.filter((r) => r.body.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.body.commit)).size).toBe(1);
    }
  });
});
