// The kernel's replicas of notebooks: one y-websocket client per open notebook, connected to the collaboration
// server as the service identity, so the kernel runs exactly what everyone sees and writes run summaries that every
// collaborator sees live. Replicas are shared by reference count and closed after a quiet period.
import { PipebookError } from '@pipebook/shared';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

export interface DocBridgeOptions {
  /** Collaboration server base URL (http://...); the socket is `<ws url>/collab/<notebookId>`. */
  collabUrl: string;
  /** Token for the socket (`?token=`), or undefined in local mode. */
  token: () => Promise<string | undefined>;
  /** How long a replica nobody holds stays connected (a re-run soon after reuses it). */
  idleMs: number;
  /** Deadline for the first sync. */
  syncTimeoutMs?: number;
  /** Called once per replica, right after its first sync (before anyone uses it). */
  onFirstSync?: (notebookId: string, doc: Y.Doc) => void;
  /**
   * Called when the kernel drops its last replica of a notebook (idle, or closed for good by the collab server), so
   * what the kernel keeps per notebook elsewhere (Spark sessions) can be freed. Not called when the kernel shuts down:
   * engines free everything on close.
   */
  onReplicaClosed?: (notebookId: string) => void;
}

export interface OpenNotebook {
  doc: Y.Doc;
  release: () => void;
}

interface Replica {
  doc: Y.Doc;
  provider: WebsocketProvider;
  refs: number;
  ready: Promise<void>;
  idleTimer?: NodeJS.Timeout;
}

export class DocBridge {
  private readonly replicas = new Map<string, Replica>();
  private closed = false;

  constructor(private readonly opts: DocBridgeOptions) {}

  private wsBase(): string {
    return `${this.opts.collabUrl.replace(/^http/, 'ws')}/collab`;
  }

  async open(notebookId: string): Promise<OpenNotebook> {
    if (this.closed) throw new PipebookError('engine_unavailable', 'The kernel is shutting down.');
    let r = this.replicas.get(notebookId);
    if (!r) {
      r = await this.connect(notebookId);
    }
    const replica = r;
    replica.refs++;
    if (replica.idleTimer) {
      clearTimeout(replica.idleTimer);
      replica.idleTimer = undefined;
    }
    try {
      await replica.ready;
    } catch (e) {
      this.releaseReplica(notebookId, replica);
      throw e;
    }
    let released = false;
    return {
      doc: replica.doc,
      release: () => {
        if (released) return;
        released = true;
        this.releaseReplica(notebookId, replica);
      },
    };
  }

  private async connect(notebookId: string): Promise<Replica> {
    const token = await this.opts.token();
    // Another open() may have connected while the token was being signed.
    const existing = this.replicas.get(notebookId);
    if (existing) return existing;
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(this.wsBase(), notebookId, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: token ? { token } : {},
      // Without this, two replicas in one process would sync over BroadcastChannel, bypassing the server.
      disableBc: true,
    });
    const timeoutMs = this.opts.syncTimeoutMs ?? 10_000;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new PipebookError('engine_unavailable', 'The collaboration server did not sync the notebook.')),
        timeoutMs,
      );
      const onSync = (synced: boolean) => {
        if (!synced) return;
        clearTimeout(timer);
        provider.off('sync', onSync);
        try {
          this.opts.onFirstSync?.(notebookId, doc);
        } catch (e) {
          console.error('[kernel] after sync:', e);
        }
        resolve();
      };
      provider.on('sync', onSync);
      provider.on('closed', (ev) => {
        clearTimeout(timer);
        const code = ev.code === 4401 ? 'unauthorized' : ev.code === 4404 ? 'not_found' : 'forbidden';
        reject(new PipebookError(code, `The collaboration server refused the kernel: ${ev.reason || ev.code}`));
        // Closed for good (notebook deleted, access withdrawn): the next open() connects afresh instead of using
        // a replica nobody syncs any more; holders keep theirs until they release it.
        if (this.replicas.get(notebookId)?.provider === provider) this.replicas.delete(notebookId);
      });
    });
    ready.catch(() => {
      // A replica that never synced is dropped, so the next open() tries afresh; the open() that waited for it
      // releases it, which destroys it.
      if (this.replicas.get(notebookId)?.provider === provider) this.replicas.delete(notebookId);
    });
    const replica: Replica = { doc, provider, refs: 0, ready };
    this.replicas.set(notebookId, replica);
    return replica;
  }

  private releaseReplica(notebookId: string, r: Replica): void {
    r.refs = Math.max(0, r.refs - 1);
    if (r.refs > 0 || this.closed) return;
    if (this.replicas.get(notebookId) !== r) {
      r.provider.destroy();
      r.doc.destroy();
      // Dropped from the map (notebook deleted, access withdrawn, never synced): free the notebook's resources unless
      // a newer replica of it is in use.
      if (!this.replicas.has(notebookId)) this.replicaClosed(notebookId);
      return;
    }
    r.idleTimer = setTimeout(() => {
      if (r.refs > 0) return;
      if (this.replicas.get(notebookId) === r) this.replicas.delete(notebookId);
      r.provider.destroy();
      r.doc.destroy();
      if (!this.replicas.has(notebookId)) this.replicaClosed(notebookId);
    }, this.opts.idleMs);
    r.idleTimer.unref();
  }

  private replicaClosed(notebookId: string): void {
    if (this.closed) return;
    try {
      this.opts.onReplicaClosed?.(notebookId);
    } catch (e) {
      console.error('[kernel] after closing a notebook:', e);
    }
  }

  /** Open replicas (for metrics and tests). */
  openCount(): number {
    return this.replicas.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.replicas.values()) {
      if (r.idleTimer) clearTimeout(r.idleTimer);
      r.provider.destroy();
      r.doc.destroy();
    }
    this.replicas.clear();
  }
}
