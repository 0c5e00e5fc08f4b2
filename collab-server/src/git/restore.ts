// Restoring a snapshot into the live notebook: one transaction with a `restore` origin (so collaborators see it at
// once and stores can tell it apart), and an undo handle. Remote changes cannot be undone by a client's own undo
// manager (it only tracks that client's edits), so the server keeps a Y.UndoManager scoped to this one restore.
import {
  applyNotebookState,
  cellsMap,
  createOrigin,
  metaMap,
  type NotebookState,
  orderArray,
  runsMap,
} from '@pipebook/shared';
import * as Y from 'yjs';

export interface RestoreHandle {
  /** Reverts the restore (later edits by others to other parts of the notebook are kept). True if anything changed. */
  undo(): boolean;
  /** Re-applies an undone restore. */
  redo(): boolean;
  /** Stops tracking; the handle becomes inert. */
  destroy(): void;
}

function notebookScope(doc: Y.Doc): Array<Y.AbstractType<unknown>> {
  return [metaMap(doc), cellsMap(doc), orderArray(doc), runsMap(doc)] as Array<Y.AbstractType<unknown>>;
}

export function restoreIntoDoc(
  doc: Y.Doc,
  state: NotebookState,
  userId: string,
  source: 'restore' | 'import' = 'restore',
): RestoreHandle {
  const origin = createOrigin(source, userId);
  const undo = new Y.UndoManager(notebookScope(doc), { trackedOrigins: new Set([origin]), captureTimeout: 0 });
  applyNotebookState(doc, state, origin);
  // Nothing else is tracked: the origin object is private to this restore.
  undo.trackedOrigins.delete(origin);
  let destroyed = false;
  return {
    undo: () => {
      if (destroyed || undo.undoStack.length === 0) return false;
      return undo.undo() !== null;
    },
    redo: () => {
      if (destroyed || undo.redoStack.length === 0) return false;
      return undo.redo() !== null;
    },
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      undo.destroy();
    },
  };
}
