// Bringing a document up to date with what the store holds: when a room loads, and under scale-out after a Redis
// outage, on a `resync` entry, or when an instance fell behind a trimmed stream. C4 allows 2 s from Redis being back
// to every replica being equal, and the resync runs on the event loop of every instance, for every loaded notebook,
// at exactly that moment.
import * as Y from 'yjs';
import type { StoredDoc } from './store.ts';

/**
 * Applies the stored snapshot and every logged update to `doc` in one transaction: one `update` event with `origin`,
 * so one broadcast of whatever was missing, and updates the document already has cost little (Yjs skips what it
 * knows). Not `Y.mergeUpdates` first: its cost grows much faster than the number of updates (2,300 logged updates
 * took about 200 ms, 8,000 about 1.7 s), and the log is longest right after an outage, since compaction needs Redis.
 */
export function applyStoredDoc(doc: Y.Doc, stored: StoredDoc, origin: unknown): void {
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
  if (parts.length === 0) return;
  doc.transact(() => {
    for (const part of parts) Y.applyUpdate(doc, part, origin);
  }, origin);
}
