// The document hub: loads rooms from the store, applies what peers send, commits every accepted update to the store
// in groups and only then broadcasts it, compacts logs into snapshots and unloads idle rooms. Rules: SPEC.md S1-S9,
// D1-D6.
import { META_KEY, metaMap, PipebookError } from '@pipebook/shared';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { CollabLimits } from '../config.ts';
import type { Role } from '../http/features.ts';
import type { CollabStore, DocAppend, NotebookTouch } from '../store/store.ts';
import { applyStoredDoc } from '../store/stored-doc.ts';
import type { CollabMetrics } from './metrics.ts';
import type { Peer } from './peer.ts';
import {
  type ClientMessage,
  CloseCode,
  encodeAwareness,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  isEmptyStateVector,
  ProtocolError,
} from './protocol.ts';
import { Room } from './room.ts';

/** A log smaller than this is never compacted (compaction of tiny docs would run on every few keystrokes). */
export const COMPACT_MIN_LOG_BYTES = 16 * 1024;
/** Compact once the log exceeds this share of the snapshot: stored size stays under 2x the live document. */
export const COMPACT_LOG_RATIO = 0.75;

export class DocTooLargeError extends Error {}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string, err?: unknown): void;
}

interface PendingUpdate {
  room: Room;
  update: Uint8Array;
  /** The peer it came from (not echoed back), or any other origin (broadcast to all). */
  origin: unknown;
  /** False for raw updates kept only because the doc could not integrate them yet. */
  broadcast: boolean;
}

/**
 * Scale-out hook (collab-server/src/cluster/): set only when PIPEBOOK_REDIS_URL is. Updates it applies from other
 * instances carry an origin for which isRemote() is true: they are broadcast to local peers but neither stored again
 * (the instance that accepted them already stored them) nor published again.
 */
export interface HubCluster {
  isRemote(origin: unknown): boolean;
  roomLoaded(room: Room): void;
  roomUnloaded(room: Room): void;
  /** Updates accepted here, called after they are committed and before the local broadcast. */
  committed(updates: Array<{ room: Room; update: Uint8Array }>): void;
  /** Presence changed here (not from another instance). */
  awarenessChanged(room: Room, clientIds: number[]): void;
  /** A member's role changed or was revoked (undefined) here: other instances apply it to their open sockets. */
  roleChanged(notebookId: string, userId: string, role: Role | undefined): void;
  /** The notebook was deleted here: other instances close its sockets. */
  notebookDropped(notebookId: string): void;
  /** Replaces the local compaction: other instances append to the same log, so it must be leased and merged. */
  compact(room: Room): void;
}

export class DocHub {
  private readonly rooms = new Map<string, Room>();
  private pending: PendingUpdate[] = [];
  private flushScheduled = false;
  private closing = false;
  private epoch = 0;
  private durableQueue: Array<{ epoch: number; tell: () => void }> = [];

  constructor(
    private readonly store: CollabStore,
    private readonly limits: CollabLimits,
    private readonly metrics: CollabMetrics,
    private readonly log: Logger,
    private readonly cluster?: HubCluster,
  ) {}

  get loadedCount(): number {
    return this.rooms.size;
  }

  loaded(notebookId: string): Room | undefined {
    return this.rooms.get(notebookId);
  }

  /** The loaded room, loading it from the store first. Throws not_found, or internal when the load fails. */
  private acquire(notebookId: string): Room {
    const existing = this.rooms.get(notebookId);
    if (existing) return existing;
    if (this.closing) throw new PipebookError('engine_unavailable', 'Server is shutting down');
    if (!this.store.getNotebook(notebookId)) throw new PipebookError('not_found', `No notebook ${notebookId}`);
    const room = new Room(notebookId);
    try {
      const stored = this.store.loadDoc(notebookId);
      applyStoredDoc(room.doc, stored, room);
      room.snapshotBytes = stored.snapshot?.length ?? 0;
      room.logBytes = stored.updates.reduce((n, u) => n + u.length, 0);
      room.logCount = stored.updates.length;
    } catch (e) {
      // S8: a failed load leaves nothing behind; the next join tries again.
      this.metrics.loadFailuresTotal++;
      room.destroy();
      this.log.error(`load of ${notebookId} failed`, e);
      throw new PipebookError('internal', 'The notebook could not be loaded', { cause: e });
    }
    room.loading = false;
    room.title = metaTitle(room.doc);
    room.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (room.loading || room.closed) return;
      this.enqueue({ room, update, origin, broadcast: true });
    });
    room.awareness.on('update', (changes: AwarenessChanges, origin: unknown) =>
      this.onAwareness(room, changes, origin),
    );
    this.rooms.set(notebookId, room);
    this.cluster?.roomLoaded(room);
    if (room.logBytes > COMPACT_MIN_LOG_BYTES) this.compact(room);
    return room;
  }

  /** Adds a peer to a notebook's room and opens the sync handshake (server's step 1, then presence). */
  join(notebookId: string, peer: Peer): Room {
    const room = this.acquire(notebookId);
    room.peers.add(peer);
    peer.send(encodeSyncStep1(Y.encodeStateVector(room.doc)));
    if (room.awareness.getStates().size > 0) {
      peer.send(
        encodeAwareness(
          awarenessProtocol.encodeAwarenessUpdate(room.awareness, [...room.awareness.getStates().keys()]),
        ),
      );
    }
    return room;
  }

  leave(room: Room, peer: Peer): void {
    if (!room.peers.delete(peer) || room.closed) return;
    if (peer.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(room.awareness, [...peer.awarenessIds], null);
    this.maybeUnload(room);
  }

  /** Keeps a document loaded for in-process use until release() (FeatureContext.openDoc). */
  hold(notebookId: string): { doc: Y.Doc; release: () => void } {
    const room = this.acquire(notebookId);
    room.holders++;
    let released = false;
    return {
      doc: room.doc,
      release: () => {
        if (released) return;
        released = true;
        room.holders--;
        this.maybeUnload(room);
      },
    };
  }

  /** Handles one decoded message; throws ProtocolError or DocTooLargeError for the socket layer to close on. */
  handle(room: Room, peer: Peer, msg: ClientMessage): void {
    if (room.closed) return;
    switch (msg.type) {
      case 'sync-step1': {
        // S3: whatever a peer is told must already be stored, so commit anything pending first.
        if (room.pendingBytes > 0) this.flushNow();
        if (room.closed) return;
        let reply: Uint8Array;
        if (isEmptyStateVector(msg.stateVector)) {
          room.fullStateMessage ??= encodeSyncStep2(Y.encodeStateAsUpdate(room.doc));
          reply = room.fullStateMessage;
        } else {
          let diff: Uint8Array;
          try {
            diff = Y.encodeStateAsUpdate(room.doc, msg.stateVector);
          } catch {
            throw new ProtocolError('malformed state vector');
          }
          reply = encodeSyncStep2(diff);
        }
        this.afterDurable([room], () => peer.send(reply));
        return;
      }
      case 'update':
        this.applyFromPeer(room, peer, msg.update);
        return;
      case 'awareness': {
        // Only presence states this peer would add count against its limit: the stock client echoes every presence
        // update it receives, so its messages routinely carry everyone else's states too.
        let fresh = 0;
        const states = room.awareness.getStates();
        for (const e of msg.entries) {
          if (!peer.awarenessIds.has(e.clientId) && !states.has(e.clientId) && e.state !== null) fresh++;
        }
        if (peer.awarenessIds.size + fresh > this.limits.maxAwarenessClientsPerConnection) {
          throw new ProtocolError('too many awareness clients on one connection');
        }
        awarenessProtocol.applyAwarenessUpdate(room.awareness, msg.update, peer);
        return;
      }
      case 'query-awareness':
        peer.send(
          encodeAwareness(
            awarenessProtocol.encodeAwarenessUpdate(room.awareness, [...room.awareness.getStates().keys()]),
          ),
        );
        return;
      case 'auth':
        return;
      default: {
        const never: never = msg;
        throw new ProtocolError(`unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  private applyFromPeer(room: Room, peer: Peer, update: Uint8Array): void {
    // S5: a viewer's updates are dropped here, before they touch the document or the store.
    if (peer.role === 'viewer') {
      this.metrics.updatesRefusedTotal++;
      return;
    }
    try {
      // Parse fully before applying, so a malformed update is refused whole and the document never sees half of it.
      Y.decodeUpdate(update);
    } catch {
      throw new ProtocolError('malformed update');
    }
    if (room.estimatedBytes() + update.length > this.limits.maxDocBytes) {
      if (room.pendingBytes > 0) this.flushNow();
      this.compact(room);
      if (room.snapshotBytes + update.length > this.limits.maxDocBytes)
        throw new DocTooLargeError('document too large');
    }
    const store = room.doc.store;
    const before = [store.pendingStructs, store.pendingDs];
    try {
      Y.applyUpdate(room.doc, update, peer);
    } catch (e) {
      // Parsed but not integrable: keep what did integrate (already queued), then drop the room so every replica
      // resyncs from the stored state rather than from a document in an unknown state.
      this.log.warn(`update to ${room.id} failed to apply: ${(e as Error).message}`);
      this.flushNow();
      this.failRoom(room, CloseCode.InternalError, 'document reset');
      return;
    }
    if (
      (store.pendingStructs || store.pendingDs) &&
      (store.pendingStructs !== before[0] || store.pendingDs !== before[1])
    ) {
      // Yjs holds updates whose dependencies it has not seen; keep the raw bytes so a restart holds them too.
      this.enqueue({ room, update, origin: peer, broadcast: false });
    }
  }

  private enqueue(p: PendingUpdate): void {
    this.pending.push(p);
    p.room.pendingBytes += p.update.length;
    p.room.fullStateMessage = null;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // D2: the group commit window is the rest of this turn of the event loop: everything received in one I/O
      // phase is committed in one transaction, then broadcast.
      setImmediate(() => this.flushNow());
    }
  }

  /** Commits every pending update in one transaction, then broadcasts each (S2, D1). */
  flushNow(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending.filter((p) => !p.room.closed);
    this.pending = [];
    const rooms = new Set(batch.map((p) => p.room));
    const now = Date.now();
    const touches: NotebookTouch[] = [];
    for (const room of rooms) {
      const title = metaTitle(room.doc);
      const changed = title !== undefined && title !== room.title;
      if (changed) room.title = title;
      // The registry's updatedAt is for listings: writing it once a second per notebook is plenty.
      if (!changed && now - room.touchedAt < 1000) continue;
      room.touchedAt = now;
      touches.push({ notebookId: room.id, at: now, ...(changed ? { title } : {}) });
    }
    const cluster = this.cluster;
    const local = cluster ? batch.filter((p) => !cluster.isRemote(p.origin)) : batch;
    const appends: DocAppend[] = local.map((p) => ({ notebookId: p.room.id, update: p.update }));
    const t0 = performance.now();
    try {
      this.store.append(appends, touches);
    } catch (e) {
      // S8: nothing of this batch was told to anyone; drop the rooms so their peers resend on reconnect.
      this.metrics.storeFailuresTotal++;
      this.log.error('store commit failed', e);
      for (const room of rooms) {
        room.pendingBytes = 0;
        this.failRoom(room, CloseCode.InternalError, 'storage failed');
      }
      return;
    }
    this.metrics.commit((performance.now() - t0) / 1000);
    for (const p of batch) {
      p.room.pendingBytes -= p.update.length;
      p.room.logBytes += p.update.length;
      p.room.logCount++;
    }
    for (const room of rooms) {
      if (room.logBytes > Math.max(COMPACT_MIN_LOG_BYTES, room.snapshotBytes * COMPACT_LOG_RATIO)) this.compact(room);
    }
    this.afterDurable([...rooms], () => {
      // Scale-out: other instances hear of an update when local peers do, once it is stored (S2).
      if (cluster) cluster.committed(local.filter((p) => p.broadcast && !p.room.closed));
      for (const p of batch) {
        if (!p.broadcast || p.room.closed) continue;
        this.metrics.updatesTotal++;
        const message = encodeUpdate(p.update); // once per update, whatever the number of peers
        for (const peer of p.room.peers) if (peer !== p.origin) peer.send(message);
      }
    });
  }

  /**
   * Runs `tell` once everything committed so far is durable: at once in 'normal' durability (committed to the WAL
   * is enough), after the group's fsync in 'full'. Calls run in order, so per-peer message order is kept.
   */
  private afterDurable(rooms: Room[], tell: () => void): void {
    if (!this.store.syncBeforeBroadcast) {
      tell();
      return;
    }
    // Each call gets an epoch; a sync() asked for at epoch e covers every commit made up to e, so when it settles
    // every waiting call up to e runs, oldest first, however the fsyncs interleave.
    const epoch = ++this.epoch;
    this.durableQueue.push({ epoch, tell });
    const settle = (ok: boolean, e?: unknown) => {
      while (this.durableQueue.length > 0 && this.durableQueue[0].epoch <= epoch) {
        const next = this.durableQueue.shift();
        if (ok) next?.tell();
      }
      if (!ok) {
        // The disk refused: nobody was told, so drop the rooms and let their peers resend on reconnect (S8).
        this.metrics.storeFailuresTotal++;
        this.log.error('fsync failed', e);
        for (const room of rooms) this.failRoom(room, CloseCode.InternalError, 'storage failed');
      }
    };
    this.store.sync().then(
      () => settle(true),
      (e: unknown) => settle(false, e),
    );
  }

  /** D4: the log becomes one snapshot (the encoded live document). Needs no pending updates for the room. */
  private compact(room: Room): void {
    if (room.closed || room.logCount === 0) return;
    if (this.cluster) {
      this.cluster.compact(room);
      room.logBytes = 0;
      room.logCount = 0;
      return;
    }
    try {
      const state = Y.encodeStateAsUpdate(room.doc);
      this.store.compact(room.id, state);
      room.snapshotBytes = state.length;
      room.logBytes = 0;
      room.logCount = 0;
      room.fullStateMessage = encodeSyncStep2(state);
      this.metrics.compactionsTotal++;
    } catch (e) {
      // The log is intact, so nothing is lost; try again after the next commit.
      this.log.error(`compaction of ${room.id} failed`, e);
    }
  }

  private maybeUnload(room: Room): void {
    if (room.closed || room.peers.size > 0 || room.holders > 0) return;
    if (room.pendingBytes > 0) this.flushNow();
    if (room.closed) return;
    this.compact(room);
    this.rooms.delete(room.id);
    this.cluster?.roomUnloaded(room);
    room.destroy();
  }

  /** Closes every peer of a room and forgets it without storing anything more. */
  private failRoom(room: Room, code: number, reason: string): void {
    if (room.closed) return;
    this.pending = this.pending.filter((p) => p.room !== room);
    this.rooms.delete(room.id);
    this.cluster?.roomUnloaded(room);
    room.destroy();
    for (const peer of [...room.peers]) peer.close(code, reason);
    room.peers.clear();
  }

  /** Applies a role change to connected peers: revoked users are closed at once (S6), others keep their socket. */
  setRole(notebookId: string, userId: string, role: Role | undefined, fromCluster = false): void {
    // Scale-out: other instances apply it to their sockets too (fromCluster: it came from one of them).
    if (!fromCluster) this.cluster?.roleChanged(notebookId, userId, role);
    const room = this.rooms.get(notebookId);
    if (!room) return;
    for (const peer of [...room.peers]) {
      if (peer.user.id !== userId) continue;
      if (role) peer.role = role;
      else peer.close(CloseCode.Forbidden, 'access revoked');
    }
  }

  /** The notebook was deleted: close its peers and drop the room. */
  dropNotebook(notebookId: string, fromCluster = false): void {
    if (!fromCluster) this.cluster?.notebookDropped(notebookId);
    const room = this.rooms.get(notebookId);
    if (room) this.failRoom(room, CloseCode.NotFound, 'notebook deleted');
  }

  /** Commits, compacts and closes every room (SIGTERM). */
  close(): void {
    this.closing = true;
    this.flushNow();
    for (const room of [...this.rooms.values()]) {
      this.compact(room);
      this.rooms.delete(room.id);
      this.cluster?.roomUnloaded(room);
      room.destroy();
      for (const peer of [...room.peers]) peer.close(CloseCode.GoingAway, 'server shutting down');
      room.peers.clear();
    }
  }

  private onAwareness(room: Room, changes: AwarenessChanges, origin: unknown): void {
    if (room.closed) return;
    if (origin && room.peers.has(origin as Peer)) {
      const peer = origin as Peer;
      for (const id of changes.added) peer.awarenessIds.add(id);
      for (const id of changes.removed) peer.awarenessIds.delete(id);
    }
    for (const id of changes.added) room.awarenessChanged.add(id);
    for (const id of changes.updated) room.awarenessChanged.add(id);
    for (const id of changes.removed) room.awarenessChanged.add(id);
    if (this.cluster && !this.cluster.isRemote(origin)) {
      this.cluster.awarenessChanged(room, [...changes.added, ...changes.updated, ...changes.removed]);
    }
    if (room.awarenessScheduled || room.awarenessChanged.size === 0) return;
    room.awarenessScheduled = true;
    // S9: presence changes within one turn of the event loop go out as one message, encoded once: when N clients
    // join at once that is N messages per peer at most, not one per change per peer.
    setImmediate(() => this.flushAwareness(room));
  }

  private flushAwareness(room: Room): void {
    room.awarenessScheduled = false;
    if (room.closed || room.awarenessChanged.size === 0) return;
    const changed = [...room.awarenessChanged];
    room.awarenessChanged.clear();
    if (room.peers.size === 0) return;
    const message = encodeAwareness(awarenessProtocol.encodeAwarenessUpdate(room.awareness, changed));
    for (const peer of room.peers) peer.send(message);
  }
}

interface AwarenessChanges {
  added: number[];
  updated: number[];
  removed: number[];
}

function metaTitle(doc: Y.Doc): string | undefined {
  const title = metaMap(doc).get(META_KEY.title);
  return typeof title === 'string' ? title : undefined;
}
