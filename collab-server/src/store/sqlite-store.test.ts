// The SQLite store: registry, members, the update log and compaction survive a reopen.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open(dir?: string, durability: 'normal' | 'full' = 'normal') {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-store-'));
  if (!dir) dirs.push(d);
  return { dir: d, store: new SqliteStore(d, { durability, fsyncIntervalMs: 5 }) };
}

const nb = (id: string, ownerId = 'ada') => ({ id, title: `T ${id}`, ownerId, createdAt: 1, updatedAt: 1 });

describe('SqliteStore', () => {
  it('[D1] keeps notebooks, members, snapshot and log across a reopen', async () => {
    const { dir, store } = open();
    store.createNotebook(nb('a'), { id: 'ada', name: 'Ada' }, new Uint8Array([0, 0]));
    store.setMember('a', { userId: 'bob', name: 'Bob', role: 'viewer' }, 2);
    store.append(
      [
        { notebookId: 'a', update: new Uint8Array([1, 2, 3]) },
        { notebookId: 'a', update: new Uint8Array([4]) },
      ],
      [{ notebookId: 'a', at: 5, title: 'Renamed' }],
    );
    await store.sync();
    store.close();
    const again = new SqliteStore(dir, { durability: 'normal', fsyncIntervalMs: 5 });
    expect(again.getNotebook('a')).toEqual({ ...nb('a'), title: 'Renamed', updatedAt: 5 });
    expect(again.roleOf('a', 'bob')).toBe('viewer');
    expect(again.members('a').map((m) => [m.userId, m.name, m.role])).toEqual([
      ['ada', 'Ada', 'owner'],
      ['bob', 'Bob', 'viewer'],
    ]);
    const doc = again.loadDoc('a');
    expect([...(doc.snapshot ?? [])]).toEqual([0, 0]);
    expect(doc.updates.map((u) => [...u])).toEqual([[1, 2, 3], [4]]);
    again.close();
  });

  it('[D4] compaction replaces snapshot and log with one snapshot', () => {
    const { store } = open();
    store.createNotebook(nb('a'), { id: 'ada', name: 'Ada' }, new Uint8Array([0, 0]));
    store.append([{ notebookId: 'a', update: new Uint8Array(100) }], []);
    expect(store.docStats('a')).toEqual({ snapshotBytes: 2, logBytes: 100, logCount: 1 });
    store.compact('a', new Uint8Array(10));
    expect(store.docStats('a')).toEqual({ snapshotBytes: 10, logBytes: 0, logCount: 0 });
    store.close();
  });

  it('lists by membership, and deleting a notebook removes its members and document', () => {
    const { store } = open(undefined, 'full');
    store.createNotebook(nb('a'), { id: 'ada', name: 'Ada' }, new Uint8Array([0, 0]));
    store.createNotebook(nb('b', 'bob'), { id: 'bob', name: 'Bob' }, new Uint8Array([0, 0]));
    store.setMember('b', { userId: 'ada', role: 'editor' }, 3);
    expect(store.listNotebooks('ada').map((n) => [n.id, n.role])).toEqual([
      ['a', 'owner'],
      ['b', 'editor'],
    ]);
    expect(store.listNotebooks(null)).toHaveLength(2);
    store.append([{ notebookId: 'b', update: new Uint8Array([7]) }], []);
    store.deleteNotebook('b');
    expect(store.getNotebook('b')).toBeUndefined();
    expect(store.roleOf('b', 'ada')).toBeUndefined();
    expect(store.loadDoc('b')).toEqual({ snapshot: null, updates: [] });
    expect(store.countNotebooks()).toBe(1);
    store.close();
  });

  it('[D2] commits never checkpoint on the event loop; the checkpoint thread does, and the WAL then restarts', async () => {
    const { dir, store } = open();
    store.createNotebook(nb('a'), { id: 'ada', name: 'Ada' }, new Uint8Array([0, 0]));
    const update = new Uint8Array(200).fill(9);
    for (let i = 0; i < 3000; i++) store.append([{ notebookId: 'a', update }], []);
    await store.sync();
    // SQLite's automatic checkpoint would have restarted the WAL at 1,000 pages inside some commit.
    const first = await store.checkpoint();
    expect(first.log).toBeGreaterThan(1000);
    expect(first.checkpointed).toBe(first.log);
    const walBytes = fs.statSync(path.join(dir, 'collab.sqlite-wal')).size;
    // Fully checkpointed: the next commits overwrite the WAL from its start instead of growing it.
    for (let i = 0; i < 100; i++) store.append([{ notebookId: 'a', update }], []);
    await store.sync();
    expect((await store.checkpoint()).log).toBeLessThan(first.log / 10);
    expect(fs.statSync(path.join(dir, 'collab.sqlite-wal')).size).toBe(walBytes);
    store.close();
    const again = new SqliteStore(dir, { durability: 'normal', fsyncIntervalMs: 5 });
    expect(again.docStats('a').logCount).toBe(3100);
    again.close();
  });

  it('[D2] checkpoints in the background while commits arrive', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-store-'));
    dirs.push(d);
    const store = new SqliteStore(d, { durability: 'normal', fsyncIntervalMs: 1, checkpointIntervalMs: 0 });
    store.createNotebook(nb('a'), { id: 'ada', name: 'Ada' }, new Uint8Array([0, 0]));
    const deadline = Date.now() + 10_000;
    while (store.checkpoints === 0 && Date.now() < deadline) {
      store.append([{ notebookId: 'a', update: new Uint8Array([1]) }], []);
      await store.sync();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(store.checkpoints).toBeGreaterThan(0);
    store.close();
  });

  it('[D5] closing checkpoints the WAL into the database file, even with the checkpoint thread running', async () => {
    const { dir, store } = open();
    store.createNotebook(nb('a'), { id: 'ada', name: 'Ada' }, new Uint8Array([0, 0]));
    await store.checkpoint(); // the thread and its connection now exist
    for (let i = 0; i < 500; i++) store.append([{ notebookId: 'a', update: new Uint8Array(100).fill(i % 256) }], []);
    const wal = path.join(dir, 'collab.sqlite-wal');
    expect(fs.statSync(wal).size).toBeGreaterThan(0);
    store.close();
    expect(fs.existsSync(wal) ? fs.statSync(wal).size : 0).toBe(0);
    const again = new SqliteStore(dir, { durability: 'normal', fsyncIntervalMs: 5 });
    expect(again.docStats('a').logCount).toBe(500);
    again.close();
  });
});
