// D1-D3 and S4 across real process deaths: SIGKILL at random points while 20 clients edit, restarts, offline edits.
import { exportNotebook, orderArray, readCells } from '@pipebook/shared';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { contentOf, countTags, randomEdit } from './editing.ts';
import {
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from './helpers.ts';
import { mulberry32, randomInt } from './random.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A writer that records, in a shadow doc, every update it received from the server. */
interface Writer extends TestClient {
  received: Y.Doc;
  tags: string[];
}

function newWriter(url: string, id: string): Writer {
  const c = newClient(url, id);
  const received = new Y.Doc();
  c.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === c.provider) Y.applyUpdate(received, update);
  });
  return { ...c, received, tags: [] };
}

/** True when `fresh` already holds everything in `received` (applying it changes neither content nor clock). */
function contains(fresh: Y.Doc, received: Y.Doc): boolean {
  const probe = new Y.Doc();
  Y.applyUpdate(probe, Y.encodeStateAsUpdate(fresh));
  const before = { sv: Y.encodeStateVector(probe).join(','), content: contentOf(probe) };
  Y.applyUpdate(probe, Y.encodeStateAsUpdate(received));
  const same = Y.encodeStateVector(probe).join(',') === before.sv && contentOf(probe) === before.content;
  probe.destroy();
  return same;
}

function noDuplicateOrder(doc: Y.Doc): boolean {
  const order = orderArray(doc).toArray();
  return new Set(order).size === order.length;
}

describe('durability', () => {
  // The default mode takes the full 10 kills; the stricter mode, whose guarantee includes the default's, a shorter run.
  it.each([
    ['normal', 10],
    ['full', 3],
  ] as const)(
    '[D1][D3] SIGKILL at random points while 20 clients edit (%s durability, %i kills): nothing received is lost, replicas converge without duplicates (seed 7)',
    async (durability, kills) => {
      const rand = mulberry32(7);
      let server: CollabProcess = await startCollabProcess({ PIPEBOOK_COLLAB_DURABILITY: durability });
      const home = server.home;
      const port = server.port;
      cleanups.push(() => server.cleanup());
      const id = await createNotebook(server.url, { template: 'demo' });
      const writers = Array.from({ length: 20 }, () => newWriter(server.url, id));
      cleanups.push(() => {
        for (const w of writers) w.destroy();
      });
      await Promise.all(writers.map((w) => w.synced()));
      let seq = 0;
      for (let round = 0; round < kills; round++) {
        // Edit for a random number of steps (random moments, whatever the machine's speed), then kill mid-stream.
        const steps = 10 + randomInt(rand, 50);
        for (let step = 0; step < steps; step++) {
          for (let k = 0; k < 3; k++) {
            const w = writers[randomInt(rand, writers.length)];
            const tag = `<${round}.${seq++}>`;
            w.tags.push(tag);
            randomEdit(w.doc, rand, tag, true, false);
          }
          await new Promise((r) => setTimeout(r, randomInt(rand, 4)));
        }
        await server.kill();
        for (const w of writers) w.provider.disconnect();
        server = await startCollabProcess({
          PIPEBOOK_HOME: home,
          PIPEBOOK_PORT: String(port),
          PIPEBOOK_COLLAB_DURABILITY: durability,
        });
        // A fresh client, loading only from storage, holds every update any writer had received.
        const fresh = newClient(server.url, id);
        await fresh.synced();
        for (const w of writers) expect(contains(fresh.doc, w.received)).toBe(true);
        expect(noDuplicateOrder(fresh.doc)).toBe(true);
        fresh.destroy();
        for (const w of writers) w.provider.connect();
        await Promise.all(writers.map((w) => w.synced()));
      }
      const docs = writers.map((w) => w.doc);
      await waitFor(() => docs.every((d) => contentOf(d) === contentOf(docs[0])), 20_000, 'convergence');
      // No deletes were made, so every tag ever typed is there exactly once.
      const all = writers.flatMap((w) => w.tags);
      expect(all.length).toBeGreaterThanOrEqual(kills * 30);
      const counts = countTags(docs[0], all);
      expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
      expect(noDuplicateOrder(docs[0])).toBe(true);
      expect(new Set(readCells(docs[0]).map((c) => c.id)).size).toBe(readCells(docs[0]).length);
    },
  );

  it('[S4] after a restart, a fresh client sees the stored content in its first sync event', async () => {
    const server = await startCollabProcess();
    cleanups.push(() => server.cleanup());
    const id = await createNotebook(server.url, { template: 'demo' });
    const a = newClient(server.url, id);
    const b = newClient(server.url, id);
    await Promise.all([a.synced(), b.synced()]);
    for (let i = 0; i < 30; i++) randomEdit(a.doc, mulberry32(i), `r${i};`, false, false);
    await waitFor(() => contentOf(b.doc) === contentOf(a.doc), 5000, 'b receives');
    const expected = contentOf(a.doc);
    a.destroy();
    b.destroy();
    await server.kill();
    const again = await startCollabProcess({ PIPEBOOK_HOME: server.home });
    cleanups.push(() => again.kill());
    const fresh = newClient(again.url, id);
    cleanups.push(() => fresh.destroy());
    const atFirstSync = await new Promise<string>((resolve) => {
      fresh.provider.once('sync', () => resolve(contentOf(fresh.doc)));
    });
    expect(atFirstSync).toBe(expected);
    expect(exportNotebook(fresh.doc).cells.length).toBeGreaterThan(0);
  });

  it('[D5] SIGTERM commits, compacts and exits 0; the content survives', async () => {
    const server = await startCollabProcess();
    cleanups.push(() => server.cleanup());
    const id = await createNotebook(server.url, {});
    const a = newClient(server.url, id);
    await a.synced();
    for (let i = 0; i < 20; i++) randomEdit(a.doc, mulberry32(i), `t${i};`, true, false);
    const expected = contentOf(a.doc);
    // Hold the socket open while stopping: the server must commit what it has applied before it exits.
    await waitFor(async () => {
      const r = await fetch(`${server.url}/api/notebooks/${id}/export`);
      return JSON.stringify(await r.json()) === expected;
    }, 5000);
    a.provider.disconnect();
    expect(await server.stop()).toBe(0);
    a.destroy();
    const again = await startCollabProcess({ PIPEBOOK_HOME: server.home });
    cleanups.push(() => again.kill());
    const fresh = newClient(again.url, id);
    cleanups.push(() => fresh.destroy());
    await fresh.synced();
    expect(contentOf(fresh.doc)).toBe(expected);
  });

  it('[S1] an offline client makes 1,000 edits to cells others edit too, reconnects: converged, nothing lost or doubled (seed 3)', async () => {
    const server = await startCollabProcess();
    cleanups.push(() => server.cleanup());
    const id = await createNotebook(server.url, { template: 'demo' });
    const offline = newClient(server.url, id);
    const online = newClient(server.url, id);
    cleanups.push(() => {
      offline.destroy();
      online.destroy();
    });
    await Promise.all([offline.synced(), online.synced()]);
    offline.provider.disconnect();
    const rand = mulberry32(3);
    const tags: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const tag = `{off${i}}`;
      tags.push(tag);
      randomEdit(offline.doc, rand, tag, false, false);
    }
    for (let i = 0; i < 300; i++) {
      const tag = `{on${i}}`;
      tags.push(tag);
      randomEdit(online.doc, rand, tag, false, false);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    offline.provider.connect();
    await waitFor(() => contentOf(offline.doc) === contentOf(online.doc), 20_000, 'convergence');
    const counts = countTags(online.doc, tags);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    // And the server stored the merge: a fresh client sees the same.
    const fresh = newClient(server.url, id);
    cleanups.push(() => fresh.destroy());
    await fresh.synced();
    expect(contentOf(fresh.doc)).toBe(contentOf(online.doc));
  });
});
