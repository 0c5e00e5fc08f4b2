// Scale-out of the document hub over Redis (PIPEBOOK_REDIS_URL). Every instance stores what its own peers send in
// the shared store first (as in single-process mode), then XADDs it to the notebook's stream; every other instance
// reads the streams of the notebooks it has loaded with one blocking XREAD from the last id it saw, applies the
// entries with the `redis` origin (not stored again, not re-published) and broadcasts them to its peers.
// The stream is the fast path; the shared store is the truth. After any Redis outage each instance re-reads the store
// for its loaded notebooks and asks the others to do the same, so whatever was committed while instances could not
// hear each other still reaches everyone. Design and trade-offs: docs/deployment.md.
import { randomUUID } from 'node:crypto';
import { createOrigin } from '@pipebook/shared';
import { redisClientOptions } from '@pipebook/shared/cluster/redis-options';
import { Redis } from 'ioredis';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Role } from '../http/features.ts';
import type { CollabStore } from '../store/store.ts';
import { applyStoredDoc } from '../store/stored-doc.ts';
import type { HubCluster, Logger } from '../sync/hub.ts';
import type { Room } from '../sync/room.ts';
import { SharedCompactor } from './shared-compaction.ts';

/** Origin of every change applied from another instance. */
export const REDIS_ORIGIN = createOrigin('redis');

/** Entry kinds on a notebook stream (field `t`). */
export const EntryKind = {
  /** A document update (field `d`). */
  Update: 'u',
  /** An awareness (presence) update (field `d`). */
  Awareness: 'a',
  /** "Re-read this notebook from the store": sent by an instance that was cut off from Redis. */
  Resync: 'r',
  /** A member's role changed or was revoked (field `d`: JSON `{ userId, role }`, role null when revoked). */
  Role: 'm',
  /** The notebook was deleted. */
  Deleted: 'x',
} as const;

export const streamKey = (notebookId: string) => `pipebook:doc:{${notebookId}}:stream`;
export const leaseKey = (notebookId: string) => `pipebook:doc:{${notebookId}}:compact-lease`;
const notebookOfKey = (key: string) => key.slice('pipebook:doc:{'.length, key.lastIndexOf('}'));

/** Compares stream ids `ms-seq`: true when a is after b. */
export function streamIdAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am > bm : as > bs;
}

/** Entries read per stream per XREAD. */
const READ_BATCH = 1000;

// Releases the lease only when this instance still holds it (it may have expired and been taken by another).
const RELEASE_LEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface RedisDocBusOptions {
  url: string;
  store: CollabStore;
  /** The shared SQLite file (PIPEBOOK_HOME/collab/collab.sqlite) for leased compaction. */
  sqliteFile: string;
  log: Logger;
  /** Approximate entries kept per notebook stream (XADD MAXLEN ~). */
  streamMaxLen?: number;
  /** Compaction lease expiry: an instance that dies mid-compaction blocks others at most this long. */
  leaseMs?: number;
}

interface Watch {
  room: Room;
  /** Last stream id applied; null until the start position is known. */
  lastId: string | null;
}

export type RedisState = 'connecting' | 'up' | 'down';

/** What the bus applies to the local hub when another instance changes access (SPEC S6 across instances). */
export interface AccessTarget {
  setRole(notebookId: string, userId: string, role: Role | undefined, fromCluster: boolean): void;
  dropNotebook(notebookId: string, fromCluster: boolean): void;
}

export class RedisDocBus implements HubCluster {
  readonly instanceId = randomUUID();
  private readonly cmd: Redis;
  private readonly reader: Redis;
  private readonly compactor: SharedCompactor;
  private readonly watches = new Map<string, Watch>();
  private readonly compacting = new Set<string>();
  private readonly awarenessPending = new Map<Room, Set<number>>();
  private awarenessScheduled = false;
  private readerClientId: number | null = null;
  private blocked = false;
  /** Bumped whenever the set of streams to read changes; readGen is the value the read in flight was built from. */
  private gen = 0;
  private readGen = -1;
  private unblocking = false;
  private wake: (() => void) | null = null;
  private closed = false;
  /** An outage or a failed publish happened: re-read the store and announce a resync once Redis is back. */
  private mustRecover = false;
  private loop: Promise<void>;
  private access: AccessTarget | null = null;
  private readonly maxLen: number;
  private readonly leaseMs: number;
  readonly stats = {
    published: 0,
    publishFailures: 0,
    received: 0,
    resyncs: 0,
    compactions: 0,
    leaseDenied: 0,
    outages: 0,
    downSince: null as number | null,
    lastError: '',
  };

  constructor(private readonly opts: RedisDocBusOptions) {
    this.maxLen = opts.streamMaxLen ?? 10_000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.compactor = new SharedCompactor(opts.sqliteFile);
    this.cmd = new Redis(opts.url, redisClientOptions(`pipebook-collab-${this.instanceId}`));
    this.reader = new Redis(opts.url, redisClientOptions(`pipebook-collab-reader-${this.instanceId}`));
    for (const conn of [this.cmd, this.reader]) {
      conn.on('error', (e: Error) => {
        this.stats.lastError = e.message;
      });
      conn.on('close', () => this.onDown());
      conn.on('ready', () => this.onReady());
    }
    this.reader.on('ready', () => {
      this.readerClientId = null;
      this.kick();
    });
    this.loop = this.readLoop();
  }

  get state(): RedisState {
    if (this.cmd.status === 'ready' && this.reader.status === 'ready') return 'up';
    return this.stats.downSince === null && this.stats.outages === 0 ? 'connecting' : 'down';
  }

  status() {
    const state = this.state;
    return {
      instance: this.instanceId,
      redis: state,
      crossInstanceSync: state === 'up',
      notebooksWatched: this.watches.size,
      ...(state !== 'up' && this.stats.downSince ? { downForMs: Date.now() - this.stats.downSince } : {}),
      ...(state !== 'up' && this.stats.lastError ? { lastError: this.stats.lastError } : {}),
    };
  }

  /** The hub, once built: role changes and deletions from other instances are applied to it. */
  attach(access: AccessTarget): void {
    this.access = access;
  }

  roleChanged(notebookId: string, userId: string, role: Role | undefined): void {
    this.control(notebookId, EntryKind.Role, JSON.stringify({ userId, role: role ?? null }));
  }

  notebookDropped(notebookId: string): void {
    this.control(notebookId, EntryKind.Deleted, '');
  }

  /** Sent whether or not this instance has the notebook loaded: another instance may have sockets on it. */
  private control(notebookId: string, kind: string, body: string): void {
    if (this.cmd.status !== 'ready') {
      this.publishFailed(1, 'redis not connected');
      return;
    }
    const p = this.cmd.pipeline();
    this.xadd(p, notebookId, kind, Buffer.from(body));
    this.exec(p, 1);
  }

  isRemote(origin: unknown): boolean {
    return origin === REDIS_ORIGIN;
  }

  roomLoaded(room: Room): void {
    const w: Watch = { room, lastId: null };
    this.watches.set(room.id, w);
    void this.startWatch(w);
  }

  roomUnloaded(room: Room): void {
    if (this.watches.get(room.id)?.room === room) this.watches.delete(room.id);
    this.awarenessPending.delete(room);
  }

  committed(updates: Array<{ room: Room; update: Uint8Array }>): void {
    if (updates.length === 0) return;
    if (this.cmd.status !== 'ready') {
      this.publishFailed(updates.length, 'redis not connected');
      return;
    }
    // One pipeline for the whole group commit: one round trip however many updates and notebooks it holds.
    const p = this.cmd.pipeline();
    for (const { room, update } of updates) this.xadd(p, room.id, EntryKind.Update, update);
    this.exec(p, updates.length);
  }

  awarenessChanged(room: Room, clientIds: number[]): void {
    let set = this.awarenessPending.get(room);
    if (!set) {
      set = new Set();
      this.awarenessPending.set(room, set);
    }
    for (const id of clientIds) set.add(id);
    if (this.awarenessScheduled) return;
    this.awarenessScheduled = true;
    setImmediate(() => this.flushAwareness());
  }

  compact(room: Room): void {
    const id = room.id;
    if (this.compacting.has(id) || this.cmd.status !== 'ready') return;
    this.compacting.add(id);
    this.runExclusive(leaseKey(id), this.leaseMs, () => {
      if (this.compactor.compact(id).folded > 0) this.stats.compactions++;
    })
      .then((ran) => {
        if (!ran) this.stats.leaseDenied++;
      })
      .catch((e) => this.opts.log.warn(`compaction of ${id} skipped: ${(e as Error).message}`))
      .finally(() => this.compacting.delete(id));
  }

  /**
   * Startup work that must not run on two instances at once (`fn` checks itself whether it is still needed). Waits up
   * to 2 s for Redis; without Redis it runs anyway, since an instance must start whether or not Redis is there.
   */
  async onceAcrossInstances(key: string, fn: () => void): Promise<void> {
    const deadline = Date.now() + 2000;
    while (this.state !== 'up' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.state !== 'up') {
      fn();
      return;
    }
    // Lost to another instance: wait for it to finish (its lease is released when done), then check again.
    while (!(await this.runExclusive(key, 10_000, fn).catch(() => true)) && Date.now() < deadline + 10_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Runs `fn` only if this instance gets the lease `key` (SET NX PX ttlMs), then releases it; resolves false when
   * another instance holds it or Redis is away. For work one instance at a time must do (compaction here; periodic
   * jobs such as automatic Git snapshots would use it the same way). `fn` must finish well within `ttlMs`.
   */
  async runExclusive(key: string, ttlMs: number, fn: () => void | Promise<void>): Promise<boolean> {
    if (this.cmd.status !== 'ready') return false;
    const got = await this.cmd.set(key, this.instanceId, 'PX', ttlMs, 'NX');
    if (got !== 'OK') return false;
    try {
      await fn();
      return true;
    } finally {
      await this.cmd.eval(RELEASE_LEASE, 1, key, this.instanceId).catch(() => {});
    }
  }

  /**
   * Runs `fn` under the lease `key`, waiting up to `waitMs` while another instance holds it. Without Redis, or after
   * the wait, `fn` runs anyway: the caller is someone's request, which must not fail because the bus is away.
   * Errors from `fn` reach the caller; the lease is released either way.
   */
  async runExclusiveWaiting<T>(key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + waitMs;
    while (this.state === 'up' && Date.now() < deadline) {
      let started = false;
      let result: { value: T } | undefined;
      try {
        await this.runExclusive(key, ttlMs, async () => {
          started = true;
          result = { value: await fn() };
        });
      } catch (e) {
        if (started) throw e; // fn's own error
        break; // Redis went away before the lease was taken: run without it
      }
      if (result) return result.value;
      await new Promise((r) => setTimeout(r, 25));
    }
    return fn();
  }

  renderMetrics(): string {
    const up = this.state === 'up' ? 1 : 0;
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, value: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    metric('pipebook_cluster_redis_up', 'gauge', 'Redis reachable: updates reach other instances (1) or not (0).', up);
    metric('pipebook_cluster_notebooks_watched', 'gauge', 'Notebook streams this instance reads.', this.watches.size);
    metric('pipebook_cluster_published_total', 'counter', 'Entries sent to other instances.', this.stats.published);
    metric(
      'pipebook_cluster_publish_failures_total',
      'counter',
      'Updates not sent while Redis was away (recovered from the store).',
      this.stats.publishFailures,
    );
    metric('pipebook_cluster_received_total', 'counter', 'Entries applied from other instances.', this.stats.received);
    metric('pipebook_cluster_resyncs_total', 'counter', 'Notebooks re-read from the shared store.', this.stats.resyncs);
    metric('pipebook_cluster_outages_total', 'counter', 'Times Redis became unreachable.', this.stats.outages);
    metric('pipebook_cluster_compactions_total', 'counter', 'Leased compactions done here.', this.stats.compactions);
    metric(
      'pipebook_cluster_compaction_lease_denied_total',
      'counter',
      'Compactions left to another instance.',
      this.stats.leaseDenied,
    );
    return `${lines.join('\n')}\n`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.cmd.disconnect();
    this.reader.disconnect();
    await this.loop.catch(() => {});
    this.compactor.close();
  }

  // --- internals -------------------------------------------------------------------------------------------------

  private xadd(p: ReturnType<Redis['pipeline']>, notebookId: string, kind: string, data: Uint8Array): void {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    p.xadd(streamKey(notebookId), 'MAXLEN', '~', this.maxLen, '*', 'i', this.instanceId, 't', kind, 'd', buf);
  }

  private exec(p: ReturnType<Redis['pipeline']>, n: number): void {
    p.exec()
      .then((results) => {
        const failed = (results ?? []).filter(([err]) => err).length;
        this.stats.published += n - failed;
        if (failed > 0) this.publishFailed(failed, 'XADD failed');
      })
      .catch((e: Error) => this.publishFailed(n, e.message));
  }

  private publishFailed(n: number, why: string): void {
    this.stats.publishFailures += n;
    this.stats.lastError = why;
    this.mustRecover = true;
    // Still connected (a single failed command): recover now rather than at the next reconnect.
    if (this.state === 'up') setTimeout(() => this.recover(), 50).unref();
  }

  private flushAwareness(): void {
    this.awarenessScheduled = false;
    if (this.cmd.status !== 'ready') {
      this.awarenessPending.clear();
      return;
    }
    const p = this.cmd.pipeline();
    let n = 0;
    for (const [room, ids] of this.awarenessPending) {
      if (room.closed) continue;
      this.xadd(p, room.id, EntryKind.Awareness, awarenessProtocol.encodeAwarenessUpdate(room.awareness, [...ids]));
      n++;
    }
    this.awarenessPending.clear();
    if (n > 0) this.exec(p, n);
  }

  /**
   * The start position is taken *after* the room loaded from the store, so updates committed in between would be
   * missed; the store is therefore read once more after the position is known. Anything XADDed later is on the
   * stream, anything earlier was committed before this second read (instances commit before they XADD).
   */
  private async startWatch(w: Watch): Promise<void> {
    try {
      const last = (await this.cmd.xrevrange(streamKey(w.room.id), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      if (this.watches.get(w.room.id) !== w) return;
      w.lastId = last[0]?.[0] ?? '0-0';
      this.resyncFromStore(w.room);
      this.kick();
    } catch (e) {
      // Redis is away: recover() starts the watch once it is back.
      this.stats.lastError = (e as Error).message;
      this.mustRecover = true;
    }
  }

  private resyncFromStore(room: Room): void {
    if (room.closed) return;
    try {
      applyStoredDoc(room.doc, this.opts.store.loadDoc(room.id), REDIS_ORIGIN);
      this.stats.resyncs++;
    } catch (e) {
      this.opts.log.error(`resync of ${room.id} from the store failed`, e);
    }
  }

  private onDown(): void {
    if (this.closed) return;
    if (this.stats.downSince === null) {
      this.stats.downSince = Date.now();
      this.stats.outages++;
      this.mustRecover = true;
      this.opts.log.warn('redis unreachable: updates no longer reach other instances until it is back');
    }
  }

  private onReady(): void {
    if (this.closed || this.state !== 'up') return;
    if (this.stats.downSince !== null) {
      this.opts.log.info(`redis back after ${Date.now() - this.stats.downSince} ms: resyncing from the store`);
      this.stats.downSince = null;
    }
    if (this.mustRecover) this.recover();
  }

  /** After an outage: re-read every loaded notebook from the store and ask the other instances to do the same. */
  private recover(): void {
    if (this.closed || this.state !== 'up') return;
    this.mustRecover = false;
    const p = this.cmd.pipeline();
    let n = 0;
    for (const w of this.watches.values()) {
      if (w.lastId === null) {
        void this.startWatch(w);
        continue;
      }
      this.resyncFromStore(w.room);
      this.xadd(p, w.room.id, EntryKind.Resync, new Uint8Array(0));
      n++;
    }
    if (n > 0) this.exec(p, n);
    this.kick();
  }

  /** Makes the blocked XREAD return so the next one covers the current set of streams. */
  private kick(): void {
    this.gen++;
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
      return;
    }
    this.unblockStale();
  }

  /**
   * CLIENT UNBLOCK goes over another connection, so it can reach Redis before the XREAD it aims at (then it unblocks
   * nothing): it is retried every few milliseconds for as long as the read in flight was built from an older set.
   */
  private unblockStale(): void {
    if (this.unblocking || !this.blocked || this.readGen >= this.gen) return;
    if (this.readerClientId === null || this.cmd.status !== 'ready') return;
    this.unblocking = true;
    this.cmd
      .client('UNBLOCK', this.readerClientId)
      .then((n) => {
        this.unblocking = false;
        if (Number(n) === 0) setTimeout(() => this.unblockStale(), 5).unref();
      })
      .catch(() => {
        this.unblocking = false;
      });
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      if (this.reader.status === 'ready' && this.readerClientId === null) {
        this.readerClientId = Number(await this.reader.client('ID').catch(() => null)) || null;
      }
      const gen = this.gen;
      const active = [...this.watches.entries()].filter(([, w]) => w.lastId !== null);
      if (this.reader.status !== 'ready' || active.length === 0) {
        // Woken by kick() (a watch started, Redis is back) or, as a backstop, after a short while.
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 250).unref();
        });
        this.wake = null;
        continue;
      }
      try {
        // No await between building the stream list and sending the read: a kick() either came before (and is in
        // this read) or comes after, sees a stale read in flight and unblocks it.
        this.readGen = gen;
        this.blocked = true;
        const res = (await this.reader.xreadBuffer(
          'COUNT',
          READ_BATCH,
          'BLOCK',
          2000,
          'STREAMS',
          ...active.map(([id]) => streamKey(id)),
          ...active.map(([, w]) => w.lastId as string),
        )) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
        this.blocked = false;
        for (const [key, entries] of res ?? []) {
          const notebookId = notebookOfKey(key.toString());
          const before = this.watches.get(notebookId)?.lastId ?? null;
          this.applyEntries(notebookId, entries);
          // A full batch means this instance is behind; if it fell further behind than the stream keeps (MAXLEN),
          // entries were trimmed before it read them: the store has them.
          if (entries.length === READ_BATCH && before !== null) void this.checkTrimmed(notebookId, before);
        }
      } catch (e) {
        this.blocked = false;
        if (this.closed) return;
        this.stats.lastError = (e as Error).message;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async checkTrimmed(notebookId: string, before: string): Promise<void> {
    try {
      const oldest = (await this.cmd.xrange(streamKey(notebookId), '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
      const w = this.watches.get(notebookId);
      if (w && oldest[0] && streamIdAfter(oldest[0][0], before)) {
        this.opts.log.warn(`fell behind the stream of ${notebookId}: resyncing from the store`);
        this.resyncFromStore(w.room);
      }
    } catch (e) {
      this.stats.lastError = (e as Error).message;
    }
  }

  private applyEntries(notebookId: string, entries: Array<[Buffer, Buffer[]]>): void {
    const w = this.watches.get(notebookId);
    if (!w || w.lastId === null) return;
    for (const [rawId, fields] of entries) {
      const id = rawId.toString();
      // A watch restarted while this read was in flight starts later: skip what it already covers.
      if (!streamIdAfter(id, w.lastId)) continue;
      w.lastId = id;
      let from = '';
      let kind = '';
      let data: Buffer | undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const k = fields[i].toString();
        if (k === 'i') from = fields[i + 1].toString();
        else if (k === 't') kind = fields[i + 1].toString();
        else if (k === 'd') data = fields[i + 1];
      }
      if (from === this.instanceId || w.room.closed) continue;
      this.stats.received++;
      try {
        if (kind === EntryKind.Update && data) Y.applyUpdate(w.room.doc, data, REDIS_ORIGIN);
        else if (kind === EntryKind.Awareness && data)
          awarenessProtocol.applyAwarenessUpdate(w.room.awareness, data, REDIS_ORIGIN);
        else if (kind === EntryKind.Resync) this.resyncFromStore(w.room);
        else if (kind === EntryKind.Role && data) {
          const { userId, role } = JSON.parse(data.toString()) as { userId: string; role: Role | null };
          this.access?.setRole(notebookId, userId, role ?? undefined, true);
        } else if (kind === EntryKind.Deleted) this.access?.dropNotebook(notebookId, true);
      } catch (e) {
        // An entry this instance cannot apply: the store holds the truth, so fall back to it.
        this.opts.log.warn(`stream entry ${id} of ${notebookId} failed to apply: ${(e as Error).message}`);
        this.resyncFromStore(w.room);
      }
    }
  }
}
