// Compaction when several instances append to one shared SQLite store. The single-process hub encodes its live
// document and drops the whole log, which is only right when nobody else appends: here another instance may have
// committed an update this one has not received yet. So the snapshot is rebuilt from what is *stored* (snapshot plus
// every log row read), and only the rows that were read are deleted, in one IMMEDIATE transaction. A row appended
// concurrently is either read (and folded in) or left in the log: no update can be lost or doubled.
import Database from 'better-sqlite3';
import * as Y from 'yjs';

export interface SharedCompactionResult {
  /** Log rows folded into the snapshot (0: nothing to do). */
  folded: number;
  snapshotBytes: number;
}

export class SharedCompactor {
  private readonly db: Database.Database;
  private readonly run: (notebookId: string) => SharedCompactionResult;

  constructor(file: string) {
    // A second connection to the file the SqliteStore owns: WAL mode is a property of the file; the busy timeout
    // makes a writer wait for another instance's transaction rather than fail.
    this.db = new Database(file, { timeout: 5000 });
    this.db.pragma('foreign_keys = ON');
    // The store's checkpointer thread checkpoints the shared WAL; never inside a commit here (store/checkpointer.ts).
    this.db.pragma('wal_autocheckpoint = 0');
    const q = {
      exists: this.db.prepare('SELECT 1 AS x FROM notebooks WHERE id = ?'),
      snapshot: this.db.prepare('SELECT data FROM doc_snapshots WHERE notebook_id = ?'),
      log: this.db.prepare('SELECT seq, data FROM doc_updates WHERE notebook_id = ? ORDER BY seq'),
      put: this.db.prepare(
        'INSERT INTO doc_snapshots (notebook_id, data) VALUES (?, ?) ON CONFLICT (notebook_id) DO UPDATE SET data = excluded.data',
      ),
      drop: this.db.prepare('DELETE FROM doc_updates WHERE notebook_id = ? AND seq <= ?'),
    };
    const tx = this.db.transaction((notebookId: string): SharedCompactionResult => {
      if (!q.exists.get(notebookId)) return { folded: 0, snapshotBytes: 0 };
      const rows = q.log.all(notebookId) as Array<{ seq: number; data: Buffer }>;
      if (rows.length === 0) return { folded: 0, snapshotBytes: 0 };
      const snap = q.snapshot.get(notebookId) as { data: Buffer } | undefined;
      // Through a document (not Y.mergeUpdates) so deleted content is garbage-collected, as in the live hub.
      const doc = new Y.Doc({ gc: true });
      try {
        doc.transact(() => {
          if (snap) Y.applyUpdate(doc, snap.data);
          for (const r of rows) Y.applyUpdate(doc, r.data);
        });
        // Updates still missing a dependency stay pending in the doc; encodeStateAsUpdate keeps them.
        const state = Y.encodeStateAsUpdate(doc);
        q.put.run(notebookId, state);
        q.drop.run(notebookId, rows[rows.length - 1].seq);
        return { folded: rows.length, snapshotBytes: state.length };
      } finally {
        doc.destroy();
      }
    });
    this.run = (notebookId) => tx.immediate(notebookId);
  }

  compact(notebookId: string): SharedCompactionResult {
    return this.run(notebookId);
  }

  close(): void {
    this.db.close();
  }
}
