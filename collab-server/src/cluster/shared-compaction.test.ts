// Leased compaction on a store other instances append to: the snapshot is rebuilt from what is stored, never from one
// instance's live document, and only the log rows that were read are dropped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SqliteStore } from '../store/sqlite-store.ts';
import { streamIdAfter } from './redis-doc-bus.ts';
import { SharedCompactor } from './shared-compaction.ts';

const closers: Array<() => void> = [];
afterEach(() => {
  while (closers.length) closers.pop()?.();
});

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-shared-compact-'));
  const store = new SqliteStore(dir, { durability: 'normal', fsyncIntervalMs: 5 });
  const compactor = new SharedCompactor(store.file);
  closers.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  closers.push(() => store.close());
  closers.push(() => compactor.close());
  return { store, compactor };
}

/** An update typing `text` into the shared text of a doc that starts from `base`. */
function typed(base: Uint8Array, text: string): Uint8Array {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, base);
  const before = Y.encodeStateVector(doc);
  doc.getText('t').insert(doc.getText('t').length, text);
  return Y.encodeStateAsUpdate(doc, before);
}

function stored(store: SqliteStore, id: string): string {
  const s = store.loadDoc(id);
  const doc = new Y.Doc();
  for (const u of s.snapshot ? [s.snapshot, ...s.updates] : s.updates) Y.applyUpdate(doc, u);
  return doc.getText('t').toString();
}

describe('SharedCompactor', () => {
  it('[C5] folds every stored update into the snapshot, including ones this instance never applied', () => {
    const { store, compactor } = setup();
    const base = Y.encodeStateAsUpdate(new Y.Doc());
    store.createNotebook(
      { id: 'n', title: 'n', ownerId: 'o', createdAt: 1, updatedAt: 1 },
      { id: 'o', name: 'O' },
      base,
    );
    // "Instance A" and "instance B" each append an update the other has not seen.
    store.append([{ notebookId: 'n', update: typed(base, 'from-a;') }], []);
    store.append([{ notebookId: 'n', update: typed(base, 'from-b;') }], []);
    const before = stored(store, 'n');
    const r = compactor.compact('n');
    expect(r.folded).toBe(2);
    expect(store.docStats('n').logCount).toBe(0);
    expect(stored(store, 'n')).toBe(before);
    expect(before).toContain('from-a;');
    expect(before).toContain('from-b;');
    // Appends after a compaction stay in the log; a second compaction folds them too.
    store.append([{ notebookId: 'n', update: typed(base, 'late;') }], []);
    expect(store.docStats('n').logCount).toBe(1);
    expect(compactor.compact('n').folded).toBe(1);
    expect(stored(store, 'n')).toContain('late;');
    expect(compactor.compact('n').folded).toBe(0);
  });

  it('[C5] a deleted notebook is left alone', () => {
    const { compactor } = setup();
    expect(compactor.compact('missing')).toEqual({ folded: 0, snapshotBytes: 0 });
  });

  it('orders stream ids by time, then sequence', () => {
    expect(streamIdAfter('2-0', '1-9')).toBe(true);
    expect(streamIdAfter('1-10', '1-9')).toBe(true);
    expect(streamIdAfter('1-9', '1-9')).toBe(false);
    expect(streamIdAfter('1-0', '0-0')).toBe(true);
  });
});
