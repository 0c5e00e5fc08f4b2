// Scale-out over Redis (docs/deployment.md, rules C1-C5 there): two or three collab-server processes sharing one
// PIPEBOOK_HOME and one real redis-server, stock y-websocket clients on different instances.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addCell, orderArray } from '@pipebook/shared';
import { signUserToken } from '@pipebook/shared/auth/tokens';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { contentOf, countTags, randomEdit } from '../editing.ts';
import {
  api,
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from '../helpers.ts';
import { mulberry32, randomInt } from '../random.ts';
import { type RedisProcess, startRedis } from './redis-process.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Cluster {
  redis: RedisProcess;
  home: string;
  instances: CollabProcess[];
  start(env?: Record<string, string>): Promise<CollabProcess>;
}

async function startCluster(n: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startRedis();
  cleanups.push(() => redis.cleanup());
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-cluster-'));
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  const cluster: Cluster = {
    redis,
    home,
    instances: [],
    async start(extra = {}) {
      const p = await startCollabProcess({
        PIPEBOOK_HOME: home,
        PIPEBOOK_REDIS_URL: redis.url,
        PIPEBOOK_SEED_DEMO: '0',
        ...env,
        ...extra,
      });
      cleanups.push(() => p.kill());
      cluster.instances.push(p);
      return p;
    },
  };
  // Sequential: both would otherwise create the schema of the shared SQLite file at the same moment.
  for (let i = 0; i < n; i++) await cluster.start();
  await Promise.all(
    cluster.instances.map((p) => waitFor(async () => (await health(p)).cluster?.redis === 'up', 10_000, 'redis up')),
  );
  return cluster;
}

interface Health {
  ok: boolean;
  cluster?: { redis: string; crossInstanceSync: boolean };
}
async function health(p: CollabProcess): Promise<Health> {
  return (await (await fetch(`${p.url}/healthz`)).json()) as Health;
}
async function metric(p: CollabProcess, name: string): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}

/** A writer that records, in a shadow doc, every update it received from its server. */
interface Writer extends TestClient {
  received: Y.Doc;
  tags: string[];
}
function newWriter(url: string, id: string): Writer {
  const c = newClient(url, id);
  cleanups.push(() => c.destroy());
  const received = new Y.Doc();
  c.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === c.provider) Y.applyUpdate(received, update);
  });
  return { ...c, received, tags: [] };
}

/** True when `fresh` already holds everything in `received`. */
function contains(fresh: Y.Doc, received: Y.Doc): boolean {
  const probe = new Y.Doc();
  Y.applyUpdate(probe, Y.encodeStateAsUpdate(fresh));
  const before = { sv: Y.encodeStateVector(probe).join(','), content: contentOf(probe) };
  Y.applyUpdate(probe, Y.encodeStateAsUpdate(received));
  const same = Y.encodeStateVector(probe).join(',') === before.sv && contentOf(probe) === before.content;
  probe.destroy();
  return same;
}

const allSame = (docs: Y.Doc[]) => docs.every((d) => contentOf(d) === contentOf(docs[0]));

/** Random inserts (no deletes, so each tag must end up exactly once) from random writers until `until()`. */
async function burst(writers: Writer[], rand: () => number, prefix: string, until: () => boolean): Promise<number> {
  let seq = 0;
  while (!until()) {
    for (let k = 0; k < 3; k++) {
      const w = writers[randomInt(rand, writers.length)];
      const tag = `<${prefix}${seq++}>`;
      w.tags.push(tag);
      randomEdit(w.doc, rand, tag, true, false);
    }
    await new Promise((r) => setTimeout(r, randomInt(rand, 4)));
  }
  return seq;
}

function expectEveryTagOnce(doc: Y.Doc, writers: Writer[]): void {
  const tags = writers.flatMap((w) => w.tags);
  const counts = countTags(doc, tags);
  expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  const order = orderArray(doc).toArray();
  expect(new Set(order).size).toBe(order.length);
}

describe('collab cluster over Redis', () => {
  it('[C1] clients on different instances converge, presence crosses instances (seed 11)', async () => {
    const cluster = await startCluster(2);
    const [a, b] = cluster.instances;
    const id = await createNotebook(a.url, { template: 'demo' });
    const writers = [a, a, a, b, b, b].map((p) => newWriter(p.url, id));
    await Promise.all(writers.map((w) => w.synced()));
    const rand = mulberry32(11);
    const stopAt = Date.now() + 1500;
    await burst(writers, rand, 'c', () => Date.now() > stopAt);
    const docs = writers.map((w) => w.doc);
    await waitFor(() => allSame(docs), 10_000, 'convergence across instances');
    expectEveryTagOnce(docs[0], writers);
    expect(writers.flatMap((w) => w.tags).length).toBeGreaterThan(100);

    // Presence set on instance A shows on a client of instance B.
    writers[0].provider.awareness.setLocalStateField('user', { name: 'on-a' });
    await waitFor(
      () =>
        [...writers[3].provider.awareness.getStates().values()].some(
          (s) => (s as { user?: { name?: string } }).user?.name === 'on-a',
        ),
      5000,
      'presence from A on B',
    );
    // Each instance received the other's updates through Redis and published its own.
    for (const p of cluster.instances) {
      expect(await metric(p, 'pipebook_cluster_received_total')).toBeGreaterThan(0);
      expect(await metric(p, 'pipebook_cluster_published_total')).toBeGreaterThan(0);
      expect(await metric(p, 'pipebook_cluster_redis_up')).toBe(1);
    }
    // A third instance started now loads the shared store and joins the stream: its client sees the same.
    const c = await cluster.start();
    const late = newClient(c.url, id);
    cleanups.push(() => late.destroy());
    await late.synced();
    writers[4].doc.transact(() => randomEdit(writers[4].doc, rand, '<late>', false, false));
    await waitFor(() => allSame([...docs, late.doc]), 5000, 'late instance converges');
  });

  it('[C2] one instance SIGKILLed mid-burst: nothing any client received is lost, all converge after reconnecting (seed 5)', async () => {
    const cluster = await startCluster(2);
    const [a, b] = cluster.instances;
    const id = await createNotebook(b.url, { template: 'demo' });
    const onA = [0, 1, 2].map(() => newWriter(a.url, id));
    const onB = [0, 1, 2].map(() => newWriter(b.url, id));
    const writers = [...onA, ...onB];
    await Promise.all(writers.map((w) => w.synced()));
    const rand = mulberry32(5);
    const killAt = Date.now() + 400 + randomInt(rand, 400);
    await burst(writers, rand, 'k', () => Date.now() > killAt);
    await a.kill();
    // B's writers keep going while A is dead.
    const resumeUntil = Date.now() + 200;
    await burst(onB, rand, 'b', () => Date.now() > resumeUntil);

    // A new instance on the shared store: a fresh client there holds every update any writer had received.
    const c = await cluster.start();
    const fresh = newClient(c.url, id);
    cleanups.push(() => fresh.destroy());
    await fresh.synced();
    for (const w of writers) expect(contains(fresh.doc, w.received)).toBe(true);

    // A's writers come back through instance C (a load balancer would send them to any live instance).
    for (const w of onA) w.provider.destroy();
    const moved = onA.map((w) => {
      const c2 = newClient(c.url, id, { doc: w.doc });
      cleanups.push(() => c2.provider.destroy());
      return c2;
    });
    await Promise.all(moved.map((m) => m.synced()));
    const docs = [...writers.map((w) => w.doc), fresh.doc];
    await waitFor(() => allSame(docs), 10_000, 'convergence after the kill');
    expectEveryTagOnce(docs[0], writers);
  });

  it('[C3][C4] Redis killed and restarted mid-burst: instances report it, keep serving locally, converge within 2 s after it is back (seed 9)', async () => {
    const cluster = await startCluster(2);
    const [a, b] = cluster.instances;
    const id = await createNotebook(a.url, { template: 'demo' });
    const writers = [a, a, b, b].map((p) => newWriter(p.url, id));
    await Promise.all(writers.map((w) => w.synced()));
    const rand = mulberry32(9);
    let phase: 'before' | 'outage' | 'after' = 'before';
    const edits = burst(writers, rand, 'r', () => phase === 'after');
    await new Promise((r) => setTimeout(r, 300));
    await cluster.redis.kill();
    phase = 'outage';
    // Degraded, not down: both report the outage and keep serving their own clients.
    for (const p of cluster.instances) {
      await waitFor(async () => (await health(p)).cluster?.redis === 'down', 5000, 'outage reported');
      const h = await health(p);
      expect(h.ok).toBe(true);
      expect(h.cluster?.crossInstanceSync).toBe(false);
      expect(await metric(p, 'pipebook_cluster_redis_up')).toBe(0);
    }
    const tagsBefore = writers[0].tags.length + writers[1].tags.length;
    await waitFor(() => writers[0].tags.length + writers[1].tags.length > tagsBefore + 10, 5000, 'edits on A');
    await cluster.redis.restart();
    const backAt = Date.now();
    phase = 'after';
    await edits;
    const docs = writers.map((w) => w.doc);
    await waitFor(() => allSame(docs), 2000, 'convergence within 2 s of Redis being back');
    const convergedMs = Date.now() - backAt;
    expectEveryTagOnce(docs[0], writers);
    expect(convergedMs).toBeLessThanOrEqual(2000);
    for (const p of cluster.instances) expect((await health(p)).cluster?.redis).toBe('up');
    // And the fast path works again afterwards.
    randomEdit(writers[0].doc, rand, '<after>', false, false);
    await waitFor(() => contentOf(writers[3].doc).includes('<after>'), 2000, 'edit after recovery crosses');
  });
});

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
