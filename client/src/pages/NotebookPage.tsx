import { CELL_KINDS, type CellId, type CellKind } from '@pipebook/shared';
import { createSignal, For, lazy, onCleanup, onMount, Show, Suspense } from 'solid-js';
import { CellView } from '../components/CellView.tsx';
import { ConnectionBadge } from '../components/ConnectionBadge.tsx';
import { PresenceBar } from '../components/PresenceBar.tsx';
import { CopilotPanel } from '../copilot/CopilotPanel.tsx';
import { NotebookEngines } from '../engines/NotebookEngines.tsx';
import { GitPanel } from '../git/GitPanel.tsx';
import { navigate } from '../router.ts';
import { describeRun } from '../state/run-status.ts';
import { createNotebookSession } from '../state/session.ts';

type Panel = 'none' | 'git' | 'copilot';

// The layout library is needed only in the pipeline view: load it when that view first opens.
const DagView = lazy(() => import('../components/DagView.tsx').then((m) => ({ default: m.DagView })));

export function NotebookPage(props: { id: string }) {
  const s = createNotebookSession(props.id);
  onCleanup(() => s.dispose());
  const [newKind, setNewKind] = createSignal<CellKind>('sql');
  const [editingTitle, setEditingTitle] = createSignal(false);
  const [panel, setPanel] = createSignal<Panel>('none');
  const [editorsReady, setEditorsReady] = createSignal(false);
  let main!: HTMLDivElement;

  onMount(() => {
    // Benchmarks and tests wait on this attribute: every cell on screen has a live editor.
    const watch = () => s.mountQueue.onIdle(() => setEditorsReady(true));
    s.conn.provider.once('sync', watch);
    s.conn.localLoaded.then(() => {
      if (s.store.order().length > 0) watch();
    });
  });

  const addCell = () => {
    if (s.readOnly()) return;
    const id = s.store.ops.add(newKind(), s.focused());
    s.focus(id, { scroll: true, editor: true });
  };
  const onKey = (e: KeyboardEvent) => {
    const inEditor = (e.target as HTMLElement).closest?.('.cm-editor');
    if (inEditor) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) {
      e.preventDefault();
      s.store.undo();
    } else if (mod && (e.key.toLowerCase() === 'y' || (e.key.toLowerCase() === 'z' && e.shiftKey))) {
      e.preventDefault();
      s.store.redo();
    }
  };
  const statusOf = (id: string) => {
    const v = describeRun(s.store.runs[id], s.pipeline().hashes.get(id));
    return v.stale ? 'stale' : v.status;
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: page-wide shortcuts (undo/redo) listen where key events bubble to
    <div class="notebook-page" ref={main} onKeyDown={onKey} data-editors-ready={editorsReady() ? 'true' : undefined}>
      <header class="notebook-header">
        <a
          href="/"
          class="back"
          onClick={(e) => {
            e.preventDefault();
            navigate({ page: 'list' });
          }}
        >
          ← Notebooks
        </a>
        <Show
          when={editingTitle()}
          fallback={
            <h1>
              <button
                type="button"
                class="title"
                aria-label={`Rename notebook ${s.store.meta().title}`}
                disabled={s.readOnly()}
                onClick={() => setEditingTitle(true)}
              >
                {s.store.meta().title}
              </button>
            </h1>
          }
        >
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              const t = String(new FormData(e.currentTarget).get('title') ?? '');
              try {
                await s.renameNotebook(t);
              } catch (err) {
                window.alert((err as Error).message);
              } finally {
                setEditingTitle(false);
              }
            }}
          >
            <input name="title" aria-label="Notebook title" value={s.store.meta().title} autofocus />
          </form>
        </Show>
        <ConnectionBadge state={s.connection()} />
        <Show when={s.role() === 'viewer'}>
          <span class="badge readonly">View only</span>
        </Show>
        <PresenceBar
          peers={s.presence.peers()}
          cellName={(id) => s.store.cells[id]?.name}
          onGoTo={(id) => s.focus(id as CellId, { scroll: true })}
        />
      </header>
      <nav class="notebook-toolbar" aria-label="Notebook actions">
        <fieldset class="toolbar-group">
          <legend class="visually-hidden">View</legend>
          <button type="button" aria-pressed={s.view() === 'cells'} onClick={() => s.setView('cells')}>
            Cells
          </button>
          <button type="button" aria-pressed={s.view() === 'pipeline'} onClick={() => s.setView('pipeline')}>
            Pipeline
          </button>
        </fieldset>
        <fieldset class="toolbar-group">
          <legend class="visually-hidden">Edit</legend>
          <button
            type="button"
            disabled={!s.store.canUndo()}
            onClick={() => s.store.undo()}
            title="Ctrl+Z: undoes only your changes"
          >
            Undo
          </button>
          <button type="button" disabled={!s.store.canRedo()} onClick={() => s.store.redo()} title="Ctrl+Shift+Z">
            Redo
          </button>
          <label>
            <span class="visually-hidden">Kind of new cell</span>
            <select
              value={newKind()}
              disabled={s.readOnly()}
              onChange={(e) => setNewKind(e.currentTarget.value as CellKind)}
            >
              <For each={CELL_KINDS.filter((k) => k !== 'pyspark')}>{(k) => <option value={k}>{k}</option>}</For>
            </select>
          </label>
          <button type="button" disabled={s.readOnly()} onClick={addCell}>
            Add cell
          </button>
        </fieldset>
        <fieldset class="toolbar-group">
          <legend class="visually-hidden">Run</legend>
          <button type="button" disabled={s.readOnly()} onClick={() => void s.runtime.run('all')}>
            Run all
          </button>
        </fieldset>
        <NotebookEngines session={s} />
        <fieldset class="toolbar-group">
          <legend class="visually-hidden">Panels</legend>
          <button
            type="button"
            aria-pressed={panel() === 'git'}
            onClick={() => setPanel(panel() === 'git' ? 'none' : 'git')}
          >
            History
          </button>
          <button
            type="button"
            aria-pressed={panel() === 'copilot'}
            onClick={() => setPanel(panel() === 'copilot' ? 'none' : 'copilot')}
          >
            Copilot
          </button>
        </fieldset>
      </nav>
      <Show when={s.runtime.notice()}>
        <p class="notice error" role="alert">
          {s.runtime.notice()}{' '}
          <button type="button" aria-label="Dismiss" onClick={() => s.runtime.clearNotice()}>
            ✕
          </button>
        </p>
      </Show>
      <div class="notebook-body">
        <main class="cells" aria-label="Cells" hidden={s.view() !== 'cells'}>
          <Show when={s.store.order().length === 0}>
            <p class="empty">This notebook has no cells yet. Choose a kind above and press “Add cell”.</p>
          </Show>
          <For each={s.store.order()}>
            {(id, i) => <CellView session={s} id={id} index={i()} total={s.store.order().length} />}
          </For>
        </main>
        <Show when={s.view() === 'pipeline'}>
          <main class="pipeline" aria-label="Pipeline view">
            <Suspense fallback={<p aria-busy="true">Laying out the pipeline…</p>}>
              <DagView
                cells={s.store
                  .order()
                  .map((id) => ({ id, name: s.store.cells[id]?.name ?? id, kind: s.store.cells[id]?.kind ?? 'sql' }))}
                edges={s.pipeline().edges}
                statusOf={statusOf}
                errorOf={(id) => s.pipeline().errors[id]?.message}
                onSelect={(id) => {
                  s.setView('cells');
                  queueMicrotask(() => s.focus(id as CellId, { scroll: true, editor: true }));
                }}
              />
            </Suspense>
          </main>
        </Show>
        <Show when={panel() !== 'none'}>
          <aside class="side-panel" aria-label={panel() === 'git' ? 'History' : 'Copilot'}>
            <Show when={panel() === 'git'}>
              <GitPanel notebookId={props.id} doc={s.store.doc} authHeaders={s.authHeaders} />
            </Show>
            <Show when={panel() === 'copilot'}>
              <CopilotPanel
                notebookId={props.id}
                doc={s.store.doc}
                focusedCellId={s.focused}
                authHeaders={s.authHeaders}
              />
            </Show>
          </aside>
        </Show>
      </div>
    </div>
  );
}
