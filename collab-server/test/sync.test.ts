// S1 (stock y-websocket clients converge) with 2 and 20 concurrent editors of the same cells.
import { readCells } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEqual, contentOf, randomEdit } from './editing.ts';
import {
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from './helpers.ts';
import { mulberry32 } from './random.ts';

let server: CollabProcess;
beforeAll(async () => {
  server = await startCollabProcess();
});
afterAll(async () => {
  await server?.cleanup();
});

async function editTogether(count: number, editsEach: number, seed: number) {
  const id = await createNotebook(server.url, { template: 'demo' });
  const clients: TestClient[] = [];
  for (let i = 0; i < count; i++) clients.push(newClient(server.url, id));
  let disconnects = 0;
  clients.forEach((c, i) => {
    c.provider.on('connection-close', () => disconnects++);
    c.provider.awareness.setLocalStateField('user', { name: `user ${i}` });
  });
  try {
    await Promise.all(clients.map((c) => c.synced()));
    expect(readCells(clients[0].doc).length).toBeGreaterThan(0);
    const rand = mulberry32(seed);
    // Interleave edits across clients and yield to the network now and then, so edits cross in flight.
    for (let round = 0; round < editsEach; round++) {
      clients.forEach((c, i) => {
        randomEdit(c.doc, rand, `[${i}.${round}]`, true);
      });
      if (round % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => allEqual(clients.map((c) => c.doc)), 20_000, 'convergence');
    // Every client shows everyone's presence, and nobody was dropped on the way (the stock client echoes presence).
    await waitFor(
      () => clients.every((c) => c.provider.awareness.getStates().size === count),
      10_000,
      `presence of all (${clients.map((c) => c.provider.awareness.getStates().size).join(',')})`,
    );
    expect(disconnects).toBe(0);
    const text = contentOf(clients[0].doc);
    // Every tag that was inserted and not deleted again appears exactly once.
    for (let i = 0; i < count; i++) {
      const tag = `[${i}.${editsEach - 1}]`;
      expect(text.split(tag).length - 1).toBeLessThanOrEqual(1);
    }
    return clients.map((c) => c.doc);
  } finally {
    for (const c of clients) c.destroy();
  }
}

describe('sync', () => {
  it('[S9][H5] a client joining a room where 20 others show presence gets them all and is not dropped', async () => {
    const id = await createNotebook(server.url, {});
    const others = Array.from({ length: 20 }, (_, i) => {
      const c = newClient(server.url, id);
      c.provider.awareness.setLocalStateField('user', { name: `other ${i}` });
      return c;
    });
    const late = newClient(server.url, id, { connect: false });
    try {
      await Promise.all(others.map((c) => c.synced()));
      await waitFor(() => others.every((c) => c.provider.awareness.getStates().size === 20), 10_000, 'presence');
      let closed = 0;
      late.provider.on('connection-close', () => closed++);
      late.provider.awareness.setLocalStateField('user', { name: 'late' });
      late.provider.connect();
      await late.synced();
      // The stock client echoes all 20 states back; they are not its own, so no per-connection limit applies.
      await waitFor(() => others.every((c) => c.provider.awareness.getStates().size === 21), 10_000, 'late presence');
      await waitFor(() => late.provider.awareness.getStates().size === 21, 10_000, 'late sees all');
      expect(closed).toBe(0);
    } finally {
      for (const c of [...others, late]) c.destroy();
    }
  });

  it('[S1] two clients editing the same cells converge (seed 11)', async () => {
    await editTogether(2, 200, 11);
  });

  it('[S1] twenty clients editing the same cells converge (seed 12)', async () => {
    await editTogether(20, 40, 12);
  });

  it('[S4] a late joiner receives the whole document in its first sync', async () => {
    const id = await createNotebook(server.url, { template: 'demo' });
    const a = newClient(server.url, id);
    await a.synced();
    for (let i = 0; i < 50; i++) randomEdit(a.doc, mulberry32(i), `x${i}`);
    const b = newClient(server.url, id);
    try {
      await b.synced();
      await waitFor(() => contentOf(a.doc) === contentOf(b.doc), 5000, 'late joiner');
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('[S2] updates of every frame size reach the other clients intact, and a late joiner gets them in one sync', async () => {
    // The server frames each broadcast itself: these sizes cross its 7-, 16- and 64-bit length encodings and the
    // size above which it writes header and payload separately.
    const sizes = [10, 120, 130, 20_000, 70_000, 300_000];
    const id = await createNotebook(server.url, {});
    const writer = newClient(server.url, id);
    const readers = [newClient(server.url, id), newClient(server.url, id)];
    const late = newClient(server.url, id, { connect: false });
    try {
      await Promise.all([writer, ...readers].map((c) => c.synced()));
      const expected: string[] = [];
      for (const [i, n] of sizes.entries()) {
        const text = String.fromCharCode(97 + i).repeat(n);
        expected.push(text);
        writer.doc.getArray<string>('blobs').push([text]);
        await waitFor(
          () => readers.every((r) => r.doc.getArray<string>('blobs').length === i + 1),
          10_000,
          `update of ${n} characters`,
        );
      }
      for (const r of readers) expect(r.doc.getArray<string>('blobs').toArray()).toEqual(expected);
      late.provider.connect();
      await late.synced();
      expect(late.doc.getArray<string>('blobs').toArray()).toEqual(expected);
    } finally {
      for (const c of [writer, ...readers, late]) c.destroy();
    }
  });

  it('[S9] awareness (presence) reaches the other clients', async () => {
    const id = await createNotebook(server.url, {});
    const a = newClient(server.url, id);
    const b = newClient(server.url, id);
    try {
      await Promise.all([a.synced(), b.synced()]);
      a.provider.awareness.setLocalStateField('user', { name: 'Ada' });
      await waitFor(
        () =>
          [...b.provider.awareness.getStates().values()].some(
            (s) => (s as { user?: { name?: string } }).user?.name === 'Ada',
          ),
        5000,
        'presence',
      );
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
