// The hub in-process with fake peers: commit-before-broadcast (S2, S3), one encoding per broadcast, compaction
// bounds (D4), unloading (S8) and failures of load and store (S8).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULT_LIMITS } from '../config.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { CollabStore } from '../store/store.ts';
import { DocHub, type Logger } from './hub.ts';
import { CollabMetrics } from './metrics.ts';
import type { Peer } from './peer.ts';
import { decodeClientMessage, encodeSyncStep1, encodeUpdate } from './protocol.ts';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(wrap: (s: SqliteStore) => CollabStore = (s) => s) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-hub-'));
  dirs.push(dir);
  const sqlite = new SqliteStore(dir, { durability: 'normal', fsyncIntervalMs: 50 });
  const store = wrap(sqlite);
  store.createNotebook(
    { id: 'nb', title: 'T', ownerId: 'ada', createdAt: 1, updatedAt: 1 },
    { id: 'ada', name: 'Ada' },
    Y.encodeStateAsUpdate(new Y.Doc()),
  );
  const hub = new DocHub(store, DEFAULT_LIMITS, new CollabMetrics(), quiet);
  return { hub, store, sqlite };
}

class FakePeer implements Peer {
  readonly awarenessIds = new Set<number>();
  readonly received: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  onSend: (m: Uint8Array) => void = () => {};
  constructor(
    public role: 'owner' | 'editor' | 'viewer' = 'editor',
    readonly user = { id: 'ada', name: 'Ada' },
  ) {}
  send(m: Uint8Array) {
    this.onSend(m);
    this.received.push(m);
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
}

/** The Yjs update inside a sync update or step 2 message. */
function decodeUpdatePayload(message: Uint8Array): Uint8Array {
  const m = decodeClientMessage(message);
  if (m.type !== 'update') throw new Error(`not an update: ${m.type}`);
  return m.update;
}

function storedDoc(store: CollabStore): Y.Doc {
  const d = new Y.Doc();
  const s = store.loadDoc('nb');
  for (const u of s.snapshot ? [s.snapshot, ...s.updates] : s.updates) Y.applyUpdate(d, u);
  return d;
}

/** A client doc whose updates go to the hub as y-websocket update messages. */
function clientOf(hub: DocHub, room: ReturnType<DocHub['join']>, peer: Peer) {
  const doc = new Y.Doc();
  doc.on('update', (u: Uint8Array) => hub.handle(room, peer, decodeClientMessage(encodeUpdate(u))));
  return doc;
}

describe('DocHub', () => {
  it('[S2] commits an update before broadcasting it, encodes it once for all peers, and does not echo it', () => {
    const { hub, store } = setup();
    const a = new FakePeer();
    const b = new FakePeer();
    const c = new FakePeer();
    const room = hub.join('nb', a);
    hub.join('nb', b);
    hub.join('nb', c);
    const before = a.received.length;
    b.onSend = () => {
      // At the moment b hears of it, the store already holds it.
      expect(storedDoc(store).getText('t').toString()).toBe('hello');
    };
    clientOf(hub, room, a).getText('t').insert(0, 'hello');
    expect(b.received.length).toBe(1); // sync step 1 only: nothing before the commit
    hub.flushNow();
    expect(b.received.length).toBe(2);
    expect(c.received[1]).toBe(b.received[1]); // the same bytes object: encoded once
    expect(a.received.length).toBe(before);
  });

  it('[S3] answers sync step 1 only after committing what it has applied', () => {
    const { hub, store } = setup();
    const a = new FakePeer();
    const b = new FakePeer();
    const room = hub.join('nb', a);
    hub.join('nb', b);
    clientOf(hub, room, a).getText('t').insert(0, 'pending');
    b.onSend = () => {
      expect(storedDoc(store).getText('t').toString()).toBe('pending');
    };
    hub.handle(room, b, decodeClientMessage(encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))));
    expect(b.received.length).toBeGreaterThan(1);
  });

  it('[S5] drops a viewer update before it reaches the document or the store', () => {
    const { hub, store } = setup();
    const viewer = new FakePeer('viewer');
    const room = hub.join('nb', viewer);
    clientOf(hub, room, viewer).getText('t').insert(0, 'nope');
    hub.flushNow();
    expect(room.doc.getText('t').toString()).toBe('');
    expect(store.docStats('nb').logCount).toBe(0);
  });

  it('[D4] after 100,000 edits the stored size is at most twice the live document (seed 5)', () => {
    const { hub, store } = setup();
    const peer = new FakePeer();
    const room = hub.join('nb', peer);
    const doc = clientOf(hub, room, peer);
    const text = doc.getText('t');
    let seed = 5;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    // Typing: a cursor that mostly moves forward, with backspaces and jumps elsewhere now and then.
    let cursor = 0;
    for (let i = 0; i < 100_000; i++) {
      if (rand() < 0.03) cursor = Math.floor(rand() * (text.length + 1));
      if (cursor > 0 && rand() < 0.2) text.delete(--cursor, 1);
      else text.insert(cursor++, String.fromCharCode(97 + (i % 26)));
      if (i % 50 === 49) hub.flushNow();
    }
    hub.flushNow();
    const live = Y.encodeStateAsUpdate(room.doc).length;
    const stats = store.docStats('nb');
    expect(stats.snapshotBytes + stats.logBytes).toBeLessThanOrEqual(2 * live);
    expect(storedDoc(store).getText('t').toString()).toBe(text.toString());
  });

  it('[D2] in full durability, a group is broadcast and a sync answered only after the fsync covering it', async () => {
    let release: () => void = () => {};
    const { hub } = setup((s) => {
      Object.defineProperty(s, 'syncBeforeBroadcast', { value: true });
      s.sync = () =>
        new Promise<void>((resolve) => {
          release = resolve;
        });
      return s;
    });
    const a = new FakePeer();
    const b = new FakePeer();
    const room = hub.join('nb', a);
    hub.join('nb', b);
    clientOf(hub, room, a).getText('t').insert(0, 'durable');
    hub.flushNow();
    hub.handle(room, b, decodeClientMessage(encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))));
    await new Promise((r) => setImmediate(r));
    expect(b.received.length).toBe(1); // only the server's sync step 1: nothing about the update yet
    release();
    await new Promise((r) => setImmediate(r));
    expect(b.received.length).toBe(3); // the update, then the sync step 2, in that order
    const replica = new Y.Doc();
    Y.applyUpdate(replica, decodeUpdatePayload(b.received[1]));
    expect(replica.getText('t').toString()).toBe('durable');
  });

  it('[S8] unloads a room when its last peer leaves and its last holder releases it', () => {
    const { hub } = setup();
    const a = new FakePeer();
    const room = hub.join('nb', a);
    const held = hub.hold('nb');
    hub.leave(room, a);
    expect(hub.loadedCount).toBe(1);
    held.release();
    held.release();
    expect(hub.loadedCount).toBe(0);
  });

  it('[S8] a failed load leaves no room behind and the next join loads again', () => {
    let fail = true;
    const { hub } = setup((s) => {
      const orig = s.loadDoc.bind(s);
      s.loadDoc = (id) => {
        if (fail) throw new Error('disk gone');
        return orig(id);
      };
      return s;
    });
    expect(() => hub.join('nb', new FakePeer())).toThrow(/could not be loaded/);
    expect(hub.loadedCount).toBe(0);
    fail = false;
    hub.join('nb', new FakePeer());
    expect(hub.loadedCount).toBe(1);
  });

  it('[S8] a failed commit closes the room (1011) without broadcasting, and unloads it', () => {
    let fail = false;
    const { hub } = setup((s) => {
      const orig = s.append.bind(s);
      s.append = (b, t) => {
        if (fail) throw new Error('disk full');
        orig(b, t);
      };
      return s;
    });
    const a = new FakePeer();
    const b = new FakePeer();
    const room = hub.join('nb', a);
    hub.join('nb', b);
    fail = true;
    clientOf(hub, room, a).getText('t').insert(0, 'lost?');
    hub.flushNow();
    expect(b.received.length).toBe(1);
    expect(a.closed?.code).toBe(1011);
    expect(b.closed?.code).toBe(1011);
    expect(hub.loadedCount).toBe(0);
  });
});
