import { addCell, addCells, CellId, createOrigin, demoNotebookFile, importNotebook, setRun } from '@pipebook/shared';
import { createRoot } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { copilotOrigin } from '../copilot/origin.ts';
import { createNotebookStore, type NotebookStore } from './notebook.ts';

function withStore(doc: Y.Doc, userId: string, fn: (s: NotebookStore) => void | Promise<void>) {
  return createRoot(async (dispose) => {
    const s = createNotebookStore(doc, userId, { textSettleMs: 10 });
    try {
      await fn(s);
    } finally {
      s.dispose();
      dispose();
    }
  });
}

/** Two replicas wired to each other directly (the server's role), so "remote" changes carry another origin. */
function pair() {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.on('update', (u: Uint8Array, origin: unknown) => origin !== 'net' && Y.applyUpdate(b, u, 'net'));
  b.on('update', (u: Uint8Array, origin: unknown) => origin !== 'net' && Y.applyUpdate(a, u, 'net'));
  return { a, b };
}

describe('notebook store (the Y.Doc -> Solid adapter)', () => {
  it('mirrors cells, order, meta and runs, including changes from other replicas', async () => {
    const { a, b } = pair();
    importNotebook(a, demoNotebookFile());
    await withStore(b, 'bob', (s) => {
      expect(s.order()).toHaveLength(8);
      expect(s.cells.demo_orders_clean.name).toBe('orders_clean');
      expect(s.meta().title).toBe('Demo: revenue by country');
      const id = addCell(
        a,
        { kind: 'sql', name: 'late', source: 'SELECT 1' },
        { index: 0 },
        createOrigin('user', 'alice'),
      );
      expect(s.order()[0]).toBe(id);
      expect(s.cells[id].kind).toBe('sql');
      setRun(a, CellId.of('demo_orders'), {
        status: 'done',
        runId: 'r1',
        engine: 'duckdb',
        by: { id: 'alice', name: 'Alice' },
        rowCount: 3,
      });
      expect(s.runs.demo_orders.rowCount).toBe(3);
      s.ops.remove(id);
      expect(s.cells[id]).toBeUndefined();
      expect(s.order()).toHaveLength(8);
    });
  });

  it('settles text changes before refreshing snapshots, but applies structure at once', async () => {
    vi.useFakeTimers();
    try {
      const doc = new Y.Doc();
      importNotebook(doc, demoNotebookFile());
      await withStore(doc, 'me', (s) => {
        const before = s.snapshots();
        s.text(CellId.of('demo_top_countries'))!.insert(0, '-- hi\n');
        expect(s.snapshots()).toBe(before);
        vi.advanceTimersByTime(20);
        expect(
          s
            .snapshots()
            .find((c) => c.id === 'demo_top_countries')!
            .source.startsWith('-- hi'),
        ).toBe(true);
        s.ops.rename(CellId.of('demo_top_countries'), 'best_countries');
        expect(s.snapshots().some((c) => c.name === 'best_countries')).toBe(true);
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('undo reverts only this person’s changes, never a colleague’s', async () => {
    const { a, b } = pair();
    importNotebook(a, demoNotebookFile());
    await withStore(a, 'alice', async (alice) => {
      await withStore(b, 'bob', (bob) => {
        const mine = alice.ops.add('sql', undefined, { source: 'SELECT 1' });
        alice.undoManager.stopCapturing();
        const theirs = bob.ops.add('sql', undefined, { source: 'SELECT 2' });
        // A colleague's text edit in a shared cell, in between.
        b.transact(() => bob.text(CellId.of('demo_orders_clean'))!.insert(0, '-- bob\n'), bob.origin);
        expect(alice.canUndo()).toBe(true);
        alice.undo();
        expect(alice.cells[mine]).toBeUndefined();
        expect(alice.cells[theirs]).toBeDefined();
        expect(alice.text(CellId.of('demo_orders_clean'))!.toString().startsWith('-- bob')).toBe(true);
        expect(alice.canUndo()).toBe(false);
        alice.redo();
        expect(alice.cells[mine]).toBeDefined();
      });
    });
  });

  it('one undo removes the cells Copilot inserted for this person, not those inserted for someone else', async () => {
    const doc = new Y.Doc();
    importNotebook(doc, demoNotebookFile());
    await withStore(doc, 'me', (s) => {
      const before = s.order().length;
      addCells(
        doc,
        [
          { kind: 'sql', name: 'gen_a' },
          { kind: 'sql', name: 'gen_b' },
        ],
        undefined,
        copilotOrigin('me'),
      );
      s.undoManager.stopCapturing();
      addCells(doc, [{ kind: 'sql', name: 'theirs' }], undefined, copilotOrigin('colleague'));
      expect(s.order().length).toBe(before + 3);
      s.undo();
      expect(Object.values(s.cells).map((c) => c.name)).toContain('theirs');
      expect(Object.values(s.cells).map((c) => c.name)).not.toContain('gen_a');
      expect(s.order().length).toBe(before + 1);
    });
  });

  it('moves keep a cell’s identity and are one undo step', async () => {
    const doc = new Y.Doc();
    importNotebook(doc, demoNotebookFile());
    await withStore(doc, 'me', (s) => {
      const id = CellId.of('demo_top_countries');
      const text = s.text(id);
      s.ops.move(id, 0);
      expect(s.order()[0]).toBe(id);
      expect(s.text(id)).toBe(text);
      s.undo();
      expect(s.order()[0]).not.toBe(id);
    });
  });

  it('setConfig accepts values read from the reactive store (proxies) as plain JSON', async () => {
    const doc = new Y.Doc();
    importNotebook(doc, demoNotebookFile());
    await withStore(doc, 'me', (s) => {
      const id = CellId.of('demo_revenue_by_country');
      const measures = s.cells[id].config.measures as Array<Record<string, unknown>>;
      s.ops.setConfig(id, { measures: [...measures, { fn: 'max', column: 'amount', as: 'max_amount' }] });
      expect((s.cells[id].config.measures as unknown[]).length).toBe(3);
    });
  });
});
