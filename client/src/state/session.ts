// Everything one open notebook needs, composed once per page: the Yjs connection, the notebook store, presence,
// connection state, kernel runtime, the caller's role and the page's own UI state. Components receive this and only
// render it.
import type { CellId } from '@pipebook/shared';
import { type Accessor, createEffect, createMemo, createSignal, on } from 'solid-js';
import { buildCompletionSchema } from '../editor/completion.ts';
import { type CursorIndex, createCursorIndex } from '../editor/scoped-awareness.ts';
import { type NotebookSummary, notebooksApi, type Role } from '../net/api.ts';
import { authHeaders, currentToken, type Identity, identityFromToken } from '../net/auth.ts';
import { type CollabConnection, openCollab } from '../net/collab.ts';
import { type ConnectionState, createConnectionState } from './connection.ts';
import { createMountQueue, type MountQueue } from './editor-mount.ts';
import { createNearViewport, type NearViewport } from './near-viewport.ts';
import { createNotebookStore, type NotebookStore } from './notebook.ts';
import { type PipelineView, pipelineOf } from './pipeline.ts';
import { createPresence, type PresenceStore } from './presence.ts';
import { createRuntime, type RuntimeStore } from './runtime.ts';

export type PageView = 'cells' | 'pipeline';

export interface NotebookSession {
  id: string;
  me: Identity;
  conn: CollabConnection;
  /** Which cell each remote cursor is in, so an editor re-renders only for cursors in its own text. */
  cursorIndex: CursorIndex;
  store: NotebookStore;
  presence: PresenceStore;
  connection: Accessor<ConnectionState>;
  runtime: RuntimeStore;
  role: Accessor<Role | undefined>;
  readOnly: Accessor<boolean>;
  pipeline: Accessor<PipelineView>;
  completionSchema: Accessor<ReturnType<typeof buildCompletionSchema>>;
  focused: Accessor<CellId | undefined>;
  focus(id: CellId | undefined, opts?: { scroll?: boolean; editor?: boolean }): void;
  /** Bumps when a cell should take keyboard focus (pipeline click, keyboard navigation). */
  focusRequest: Accessor<{ id: CellId; editor: boolean; n: number } | undefined>;
  /** Renames the notebook for everyone and in the notebooks list (the server changes both at once). */
  renameNotebook(title: string): Promise<void>;
  view: Accessor<PageView>;
  setView(v: PageView): void;
  mountQueue: MountQueue;
  /** Which cells are close enough to the viewport to keep a live editor. */
  nearViewport: NearViewport;
  authHeaders: () => Record<string, string>;
  dispose(): void;
}

const ROLE_KEY = (id: string) => `pipebook.role:${id}`;

export function createNotebookSession(id: string): NotebookSession {
  const me = identityFromToken(currentToken());
  const conn = openCollab(id);
  const store = createNotebookStore(conn.doc, me.id);
  const presence = createPresence(conn.awareness, me);
  const connection = createConnectionState(conn);
  const cursorIndex = createCursorIndex(conn.awareness, conn.doc);
  const runtime = createRuntime(id);
  const cachedRole = (localStorage.getItem(ROLE_KEY(id)) as Role | null) ?? undefined;
  const [role, setRole] = createSignal<Role | undefined>(cachedRole);
  // The role decides whether editors are writable; when the server cannot be asked (offline reload) the last known
  // role stands. Until anything is known the notebook is read-only, so a viewer never gets a writable flash.
  notebooksApi
    .access(id)
    .then((a) => {
      setRole(a.role);
      localStorage.setItem(ROLE_KEY(id), a.role);
    })
    .catch((e: { code?: string }) => {
      if (e.code === 'forbidden' || e.code === 'not_found' || e.code === 'unauthorized') {
        setRole('viewer');
        localStorage.removeItem(ROLE_KEY(id));
      }
    });
  const readOnly = createMemo(() => {
    const c = connection.state();
    return role() === undefined || role() === 'viewer' || c.kind === 'closed';
  });

  const pipeline = createMemo(() =>
    pipelineOf(store.snapshots(), {
      dialectOf: (e) => runtime.engines().find((x) => x.name === e)?.dialect,
      defaultEngine: store.meta().defaultEngine,
    }),
  );

  // Rebuilt only when a name, kind or column list changes, not on every settled keystroke: completion sources are
  // cached per schema object, and building one over hundreds of cells is not free.
  const completionInput = createMemo(
    () => ({
      catalog: runtime.catalog(),
      cells: store
        .snapshots()
        .map((c) => ({ id: c.id, name: c.name, kind: c.kind, columns: store.runs[c.id]?.columns })),
    }),
    undefined,
    {
      equals: (a, b) =>
        a.catalog === b.catalog &&
        a.cells.length === b.cells.length &&
        a.cells.every((c, i) => {
          const d = b.cells[i];
          return (
            c.id === d.id &&
            c.name === d.name &&
            c.kind === d.kind &&
            JSON.stringify(c.columns) === JSON.stringify(d.columns)
          );
        }),
    },
  );
  const completionSchema = createMemo(() => {
    const input = completionInput();
    return buildCompletionSchema(input.catalog, input.cells, undefined);
  });
  createEffect(
    on(
      () => [runtime.engines(), store.meta().defaultEngine] as const,
      ([, engine]) => runtime.loadCatalog(engine),
    ),
  );

  const [focused, setFocused] = createSignal<CellId | undefined>();
  const [focusRequest, setFocusRequest] = createSignal<{ id: CellId; editor: boolean; n: number }>();
  let n = 0;
  const [view, setView] = createSignal<PageView>('cells');

  return {
    id,
    me,
    conn,
    cursorIndex,
    store,
    presence,
    connection: connection.state,
    runtime,
    role,
    readOnly,
    pipeline,
    completionSchema,
    focused,
    focus(cellId, opts) {
      setFocused(cellId);
      presence.setFocusedCell(cellId);
      if (cellId && opts?.scroll) setFocusRequest({ id: cellId, editor: !!opts.editor, n: ++n });
    },
    focusRequest,
    async renameNotebook(title) {
      try {
        await notebooksApi.rename(id, title);
      } catch (e) {
        // Offline, the document's own title still changes (and syncs later); the list catches up on the next rename.
        if ((e as { code?: string }).code !== 'network') throw e;
        store.ops.setTitle(title);
      }
    },
    view,
    setView,
    mountQueue: createMountQueue(),
    nearViewport: createNearViewport(),
    authHeaders,
    dispose() {
      runtime.dispose();
      cursorIndex.destroy();
      presence.dispose();
      connection.dispose();
      store.dispose();
      conn.destroy();
    },
  };
}

export type { NotebookSummary };
