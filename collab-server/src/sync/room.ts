// A room is one loaded notebook document: the Y.Doc, its awareness, the peers editing it and what the store holds of
// it. It knows nothing about sockets or SQL; the hub drives it.
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Peer } from './peer.ts';

export class Room {
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly peers = new Set<Peer>();
  /** In-process users of the document (feature routes, FeatureContext.openDoc). */
  holders = 0;
  /** True while the stored state is applied: those changes are not stored again or broadcast. */
  loading = true;
  closed = false;
  snapshotBytes = 0;
  logBytes = 0;
  logCount = 0;
  /** Bytes applied to the doc and waiting for the next group commit. */
  pendingBytes = 0;
  /** The sync-step-2 message for a client with an empty state vector; dropped on every change. */
  fullStateMessage: Uint8Array | null = null;
  title: string | undefined;
  /** When the registry's updatedAt was last written for this room. */
  touchedAt = 0;
  /** Awareness client ids changed since the last presence broadcast (sent once per event-loop turn). */
  awarenessChanged = new Set<number>();
  awarenessScheduled = false;

  constructor(readonly id: string) {
    this.doc = new Y.Doc({ gc: true });
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.awareness.setLocalState(null);
  }

  /** Upper bound of the encoded document size, without encoding it. */
  estimatedBytes(): number {
    return this.snapshotBytes + this.logBytes + this.pendingBytes;
  }

  destroy(): void {
    this.closed = true;
    this.awareness.destroy();
    this.doc.destroy();
  }
}
