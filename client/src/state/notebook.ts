// The only Y.Doc -> Solid adapter. Components read cells, order, meta and runs from here and change the notebook only
// through `ops` (the shared/ operations with this person's origin), so undo can tell their changes from others'.
import {
  addCell,
  type CellId,
  type CellKind,
  type CellMap,
  type CellSnapshot,
  cellSourceText,
  cellsMap,
  createOrigin,
  deleteCell,
  duplicateCell,
  getCellMap,
  metaMap,
  moveCell,
  type NotebookMeta,
  orderArray,
  type RunSummary,
  readCells,
  readMeta,
  readOrder,
  readRuns,
  renameCell,
  runsMap,
  setCellEngine,
  setConfig,
  setTitle,
  snapshotCell,
  type TxOrigin,
} from '@pipebook/shared';
import { type Accessor, batch, createSignal } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import * as Y from 'yjs';
import { copilotOrigin } from '../copilot/origin.ts';

/** What the page shows of a cell besides its text (the editor binds to the Y.Text directly). */
export interface CellMeta {
  id: CellId;
  name: string;
  kind: CellKind;
  engine?: string;
  config: Record<string, unknown>;
}

export interface NotebookOps {
  add(kind: CellKind, after?: CellId, init?: { source?: string; config?: Record<string, unknown> }): CellId;
  move(id: CellId, toIndex: number): void;
  remove(id: CellId): void;
  duplicate(id: CellId): CellId;
  rename(id: CellId, name: string): void;
  setConfig(id: CellId, patch: Record<string, unknown>): void;
  setEngine(id: CellId, engine: string | undefined): void;
  setTitle(title: string): void;
}

export interface NotebookStore {
  readonly doc: Y.Doc;
  readonly origin: TxOrigin;
  readonly undoManager: Y.UndoManager;
  order: Accessor<CellId[]>;
  cells: Record<string, CellMeta>;
  runs: Record<string, RunSummary>;
  meta: Accessor<NotebookMeta>;
  /** Every cell with its text; refreshed at most every `textSettleMs` while people type. */
  snapshots: Accessor<CellSnapshot[]>;
  text(id: CellId): Y.Text | undefined;
  ops: NotebookOps;
  undo(): void;
  redo(): void;
  canUndo: Accessor<boolean>;
  canRedo: Accessor<boolean>;
  dispose(): void;
}

function metaOf(cell: CellMap): CellMeta {
  const s = snapshotCell(cell);
  return { id: s.id, name: s.name, kind: s.kind, config: s.config, ...(s.engine ? { engine: s.engine } : {}) };
}

function plainPatch(patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) out[k] = v === undefined ? undefined : JSON.parse(JSON.stringify(v));
  return out;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function createNotebookStore(doc: Y.Doc, userId: string, opts: { textSettleMs?: number } = {}): NotebookStore {
  const origin = createOrigin('user', userId);
  const settleMs = opts.textSettleMs ?? 250;
  const [order, setOrder] = createSignal<CellId[]>(readOrder(doc), { equals: sameIds });
  const [meta, setMeta] = createSignal<NotebookMeta>(readMeta(doc));
  const [cells, setCells] = createStore<Record<string, CellMeta>>({});
  const [runs, setRunsStore] = createStore<Record<string, RunSummary>>({});
  const [snapshots, setSnapshots] = createSignal<CellSnapshot[]>(readCells(doc));

  const refreshCells = (ids: Iterable<string> | 'all') => {
    const map = cellsMap(doc);
    if (ids === 'all') {
      const next: Record<string, CellMeta> = {};
      for (const [id, cell] of map) next[id] = metaOf(cell);
      setCells(reconcile(next));
      return;
    }
    for (const id of ids) {
      const cell = map.get(id);
      if (cell) setCells(id, reconcile(metaOf(cell)));
      else setCells(id, undefined!);
    }
  };
  refreshCells('all');
  setRunsStore(reconcile(readRuns(doc)));

  // Text changes arrive per keystroke from everyone; the graph, compiler and completions only need them settled,
  // and recomputing them must never delay a keystroke: after the settle time, wait for an idle moment.
  let textTimer: ReturnType<typeof setTimeout> | undefined;
  let idleHandle: number | undefined;
  const idle = (cb: () => void) =>
    typeof requestIdleCallback === 'function'
      ? requestIdleCallback(cb, { timeout: 1000 })
      : (setTimeout(cb, 0) as unknown as number);
  const cancelIdle = (h: number) =>
    typeof cancelIdleCallback === 'function' ? cancelIdleCallback(h) : clearTimeout(h);
  const refreshSnapshots = () => {
    if (textTimer) clearTimeout(textTimer);
    if (idleHandle !== undefined) cancelIdle(idleHandle);
    textTimer = undefined;
    idleHandle = undefined;
    setSnapshots(readCells(doc));
  };
  const scheduleSnapshots = () => {
    if (textTimer !== undefined || idleHandle !== undefined) return;
    textTimer = setTimeout(() => {
      textTimer = undefined;
      idleHandle = idle(refreshSnapshots);
    }, settleMs);
  };

  const onCells = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
    const changed = new Set<string>();
    let textOnly = true;
    for (const e of events) {
      if (e.target === cellsMap(doc)) {
        for (const k of (e as Y.YMapEvent<unknown>).keysChanged) changed.add(k);
        textOnly = false;
        continue;
      }
      const id = e.path[0];
      if (e.target instanceof Y.Text) continue;
      if (typeof id === 'string') changed.add(id);
      textOnly = false;
    }
    batch(() => {
      if (changed.size) refreshCells(changed);
      if (!textOnly) {
        setOrder(readOrder(doc));
        refreshSnapshots();
      } else scheduleSnapshots();
    });
  };
  const onOrder = () =>
    batch(() => {
      setOrder(readOrder(doc));
      refreshSnapshots();
    });
  const onMeta = () => setMeta(readMeta(doc));
  const onRuns = (e: Y.YMapEvent<RunSummary>) => {
    const map = runsMap(doc);
    batch(() => {
      for (const k of e.keysChanged) {
        const v = map.get(k);
        if (v) setRunsStore(k, reconcile(structuredClone(v)));
        else setRunsStore(k, undefined!);
      }
    });
  };
  cellsMap(doc).observeDeep(onCells);
  orderArray(doc).observe(onOrder);
  metaMap(doc).observe(onMeta);
  runsMap(doc).observe(onRuns);

  // Undo covers this person's structural operations, editor typing (yCollab adds each editor's sync origin) and the
  // cells Copilot inserted at this person's request, so Ctrl+Z removes a Copilot insert in one step.
  const undoManager = new Y.UndoManager([cellsMap(doc), orderArray(doc), metaMap(doc)], {
    trackedOrigins: new Set<unknown>([origin, copilotOrigin(userId)]),
    captureTimeout: 400,
  });
  const [canUndo, setCanUndo] = createSignal(false);
  const [canRedo, setCanRedo] = createSignal(false);
  const onStack = () => {
    setCanUndo(undoManager.undoStack.length > 0);
    setCanRedo(undoManager.redoStack.length > 0);
  };
  undoManager.on('stack-item-added', onStack);
  undoManager.on('stack-item-popped', onStack);
  undoManager.on('stack-cleared', onStack);

  const ops: NotebookOps = {
    add: (kind, after, init) => {
      // A new cell goes right after `after` (or at the end); a stop in the undo stack keeps it one step.
      undoManager.stopCapturing();
      return addCell(doc, { kind, source: init?.source, config: init?.config }, after ? { after } : undefined, origin);
    },
    move: (id, toIndex) => {
      undoManager.stopCapturing();
      moveCell(doc, id, toIndex, origin);
    },
    remove: (id) => {
      undoManager.stopCapturing();
      deleteCell(doc, id, origin);
    },
    duplicate: (id) => {
      undoManager.stopCapturing();
      return duplicateCell(doc, id, origin);
    },
    rename: (id, name) => {
      undoManager.stopCapturing();
      renameCell(doc, id, name, origin);
    },
    // Form values may be Solid store proxies, which structuredClone (inside setConfig) refuses: pass plain JSON.
    setConfig: (id, patch) => setConfig(doc, id, plainPatch(patch), origin),
    setEngine: (id, engine) => setCellEngine(doc, id, engine, origin),
    setTitle: (title) => setTitle(doc, title, origin),
  };

  return {
    doc,
    origin,
    undoManager,
    order,
    cells,
    runs,
    meta,
    snapshots,
    text: (id) => {
      const cell = getCellMap(doc, id);
      return cell ? cellSourceText(cell) : undefined;
    },
    ops,
    undo: () => {
      undoManager.undo();
    },
    redo: () => {
      undoManager.redo();
    },
    canUndo,
    canRedo,
    dispose() {
      if (textTimer) clearTimeout(textTimer);
      if (idleHandle !== undefined) cancelIdle(idleHandle);
      cellsMap(doc).unobserveDeep(onCells);
      orderArray(doc).unobserve(onOrder);
      metaMap(doc).unobserve(onMeta);
      runsMap(doc).unobserve(onRuns);
      undoManager.destroy();
    },
  };
}
