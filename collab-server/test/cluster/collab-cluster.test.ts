// Scale-out over Redis (docs/deployment.md, rules C1-C4): two or three collab-server processes sharing one
// PIPEBOOK_HOME and one real redis-server, stock y-websocket clients on different instances.
import { afterEach, describe, expect, it } from 'vitest';
import { contentOf, randomEdit } from '../editing.ts';
import { createNotebook, newClient, waitFor } from '../helpers.ts';
import { mulberry32, randomInt } from '../random.ts';
import {
  allSame,
  burst,
  cleanups,
  contains,
  expectEveryTagOnce,
  health,
  metric,
  newWriter,
  runCleanups,
  startCluster,
} from './cluster-helpers.ts';

afterEach(runCleanups);

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
