import { type CellId, isVisualKind, producesRelation, replaceText } from '@pipebook/shared';
import { createEffect, createMemo, createSignal, For, on, onCleanup, onMount, Show } from 'solid-js';
import type { CellEditorHandle, RunScope } from '../editor/cell-editor.ts';
import { formatSql } from '../editor/format.ts';
import { PreviewPanel } from '../preview/PreviewPanel.tsx';
import { createClock } from '../state/clock.ts';
import { describeRun } from '../state/run-status.ts';
import type { NotebookSession } from '../state/session.ts';
import { CellEditorHost } from './CellEditorHost.tsx';
import { ResultsPanel } from './ResultsPanel.tsx';
import { VisualStepForm } from './VisualStepForm.tsx';

const DRAG_TYPE = 'application/x-pipebook-cell';
/** How often a parked (far off-screen) cell's plain text catches up with edits. */
const PARKED_REFRESH_MS = 250;

export function CellView(props: { session: NotebookSession; id: CellId; index: number; total: number }) {
  const s = props.session;
  const meta = () => s.store.cells[props.id];
  const run = () => s.store.runs[props.id];
  const engine = () => meta()?.engine ?? s.store.meta().defaultEngine;
  const dialect = () => s.runtime.dialectOf(engine());
  const hash = createMemo(() => s.pipeline().hashes.get(props.id));
  // While a run is queued or running its status line counts the time, once a second.
  const now = createClock(() => run()?.status === 'queued' || run()?.status === 'running');
  const status = createMemo(() => describeRun(run(), hash(), now()), undefined, {
    equals: (a, b) => a.label === b.label && a.stale === b.stale && a.status === b.status && a.fraction === b.fraction,
  });
  const others = createMemo(() => s.presence.othersIn(props.id), undefined, {
    equals: (a, b) =>
      a.length === b.length && a.every((p, i) => p.clientId === b[i].clientId && p.color === b[i].color),
  });
  const [renaming, setRenaming] = createSignal(false);
  const [renameError, setRenameError] = createSignal<string>();
  const [dropTarget, setDropTarget] = createSignal(false);
  let section!: HTMLElement;
  let editor: CellEditorHandle | undefined;
  // A cell first renders as a light shell (name and text); its toolbar, editor, form, status and results come when
  // the mount queue gets to it, or at once when someone clicks or focuses it. Opening a long notebook stays fast.
  const [full, setFull] = createSignal(false);
  onMount(() => onCleanup(s.mountQueue.add(props.id, () => setFull(true))));
  // A cell far from the viewport parks its editor: the text shows as a plain block (kept current below) and the
  // CodeMirror view comes back when the cell nears the viewport, is focused or clicked (see near-viewport.ts).
  const [near, setNear] = createSignal(true);
  // The section exists only once the cell's metadata does (it renders inside <Show>), so track it as a signal.
  const [sectionEl, setSectionEl] = createSignal<HTMLElement>();
  createEffect(() => {
    const el = sectionEl();
    if (!el) return;
    setNear(s.nearViewport.isNear(el));
    onCleanup(s.nearViewport.watch(el, setNear));
  });
  const live = () => full() && (near() || s.focused() === props.id);
  const wake = () => {
    setNear(true);
    s.mountQueue.now(props.id);
  };
  const [staticText, setStaticText] = createSignal(s.store.text(props.id)?.toString() ?? '');
  createEffect(() => {
    const text = s.store.text(props.id);
    if (!text || live()) return;
    setStaticText(text.toString());
    // Off-screen text need not follow every keystroke: a burst of remote edits costs one copy of the text, not one
    // per key (a cell may hold up to a million characters).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setStaticText(text.toString());
      }, PARKED_REFRESH_MS);
    };
    text.observe(refresh);
    onCleanup(() => {
      text.unobserve(refresh);
      if (timer) clearTimeout(timer);
    });
  });

  const hasEditor = () => {
    const k = meta()?.kind;
    return k === 'sql' || k === 'markdown' || k === 'pyspark';
  };
  const hasForm = () => {
    const k = meta()?.kind;
    return !!k && (isVisualKind(k) || k === 'source' || k === 'target');
  };
  const canRun = () => !!meta() && meta()!.kind !== 'markdown';
  const doRun = (scope: RunScope) => {
    if (canRun() && !s.readOnly()) void s.runtime.run(scope, props.id);
  };
  const move = (delta: -1 | 1) => {
    const to = props.index + delta;
    if (s.readOnly() || to < 0 || to >= props.total) return;
    s.store.ops.move(props.id, to);
    s.focus(props.id, { scroll: true, editor: !!editor?.view.hasFocus });
  };
  const format = async (): Promise<void> => {
    const text = s.store.text(props.id);
    if (!text || meta()?.kind !== 'sql' || s.readOnly()) return;
    try {
      const before = text.toString();
      const next = await formatSql(before, dialect());
      // The same origin as typing, so Format is undone like any other edit of yours. If someone typed while the
      // formatter loaded, format again rather than overwrite their keystrokes with a stale result.
      if (text.toString() !== before) return format();
      s.store.doc.transact(() => replaceText(text, next), s.store.origin);
      setRenameError(undefined);
    } catch (e) {
      setRenameError(`Cannot format: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  const candidates = () =>
    s.store
      .order()
      .filter((id) => id !== props.id)
      .map((id) => s.store.cells[id])
      .filter((c) => c && producesRelation(c.kind))
      .map((c) => ({ id: c.id, name: c.name }));
  const compiled = createMemo(() =>
    hasForm() && meta()?.kind !== 'source' ? s.pipeline().compile(props.id) : undefined,
  );
  const graphError = () => s.pipeline().errors[props.id];
  const editorError = () => {
    const e = run()?.error;
    return e && run()?.status === 'error' ? { message: e.message, line: e.line, column: e.column } : undefined;
  };
  const showResults = () => {
    const r = run();
    return r && (r.status === 'done' || (r.status === 'stale' && r.rowCount !== undefined)) && meta()?.kind !== 'target'
      ? r.runId
      : undefined;
  };

  createEffect(
    on(s.focusRequest, (req) => {
      if (!req || req.id !== props.id) return;
      if (req.editor) wake();
      section.scrollIntoView({ block: 'nearest' });
      if (req.editor && editor) editor.view.focus();
      else section.focus();
    }),
  );

  const onSectionKey = (e: KeyboardEvent) => {
    if (e.target !== section) return;
    const ids = s.store.order();
    if (e.key === 'ArrowDown' && !e.altKey) {
      e.preventDefault();
      const next = ids[props.index + 1];
      if (next) s.focus(next, { scroll: true });
    } else if (e.key === 'ArrowUp' && !e.altKey) {
      e.preventDefault();
      const prev = ids[props.index - 1];
      if (prev) s.focus(prev, { scroll: true });
    } else if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      move(e.key === 'ArrowUp' ? -1 : 1);
    } else if (e.key === 'Enter' && e.shiftKey) {
      e.preventDefault();
      doRun('cell');
    } else if (e.key === 'Enter') {
      e.preventDefault();
      wake();
      if (editor) editor.view.focus();
      else (section.querySelector('input,select,button.first') as HTMLElement | null)?.focus();
    }
  };

  return (
    <Show when={meta()}>
      {(m) => (
        <section
          ref={(el) => {
            section = el;
            setSectionEl(el);
          }}
          class={`cell kind-${m().kind}${s.focused() === props.id ? ' focused' : ''}${dropTarget() ? ' drop-target' : ''}`}
          data-cell-id={props.id}
          data-cell-name={m().name}
          aria-label={`Cell ${m().name} (${m().kind})`}
          tabindex="0"
          onPointerDown={wake}
          onFocusIn={() => {
            wake();
            s.focus(props.id);
          }}
          onKeyDown={onSectionKey}
          onDragOver={(e) => {
            if (e.dataTransfer?.types.includes(DRAG_TYPE)) {
              e.preventDefault();
              setDropTarget(true);
            }
          }}
          onDragLeave={() => setDropTarget(false)}
          onDrop={(e) => {
            setDropTarget(false);
            const dragged = e.dataTransfer?.getData(DRAG_TYPE);
            if (dragged && dragged !== props.id && !s.readOnly()) {
              e.preventDefault();
              s.store.ops.move(dragged as CellId, props.index);
            }
          }}
          style={others().length ? { '--peer': others()[0].color } : undefined}
        >
          <header class="cell-header">
            <button
              type="button"
              class="drag-handle"
              draggable={!s.readOnly()}
              aria-label={`Move ${m().name} (drag, or Alt+Arrow keys)`}
              disabled={s.readOnly()}
              onDragStart={(e) => e.dataTransfer?.setData(DRAG_TYPE, props.id)}
              onKeyDown={(e) => {
                if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
                  e.preventDefault();
                  move(e.key === 'ArrowUp' ? -1 : 1);
                }
              }}
            >
              ⠿
            </button>
            <Show
              when={renaming()}
              fallback={
                <button
                  type="button"
                  class="cell-name"
                  aria-label={`Rename ${m().name}`}
                  disabled={s.readOnly()}
                  onClick={() => setRenaming(true)}
                >
                  {m().name}
                </button>
              }
            >
              <form
                class="rename"
                onSubmit={(e) => {
                  e.preventDefault();
                  const name = String(new FormData(e.currentTarget).get('name') ?? '').trim();
                  try {
                    s.store.ops.rename(props.id, name);
                    setRenameError(undefined);
                    setRenaming(false);
                  } catch (err) {
                    setRenameError((err as Error).message);
                  }
                }}
              >
                <input
                  name="name"
                  aria-label="Cell name"
                  value={m().name}
                  autofocus
                  onKeyDown={(e) => e.key === 'Escape' && setRenaming(false)}
                />
                <button type="submit">Rename</button>
              </form>
            </Show>
            <span class="cell-kind">{m().kind}</span>
            <Show when={full()}>
              <Show when={m().kind !== 'markdown'}>
                <label class="engine">
                  <span class="visually-hidden">Engine for {m().name}</span>
                  <select
                    value={m().engine ?? ''}
                    disabled={s.readOnly()}
                    onChange={(e) => s.store.ops.setEngine(props.id, e.currentTarget.value || undefined)}
                  >
                    <option value="">default ({s.store.meta().defaultEngine})</option>
                    <For each={s.runtime.engines()}>{(en) => <option value={en.name}>{en.label}</option>}</For>
                  </select>
                </label>
              </Show>
              <ul class="cell-peers" aria-label={`People in ${m().name}`}>
                <For each={others()}>
                  {(p) => (
                    <li style={{ '--peer': p.color }} title={p.name}>
                      {p.name}
                    </li>
                  )}
                </For>
              </ul>
              <div class="cell-actions" role="toolbar" aria-label={`Actions for ${m().name}`}>
                <Show when={canRun()}>
                  <Show
                    when={status().busy}
                    fallback={
                      <>
                        <button
                          type="button"
                          class="first"
                          disabled={s.readOnly()}
                          onClick={() => doRun('cell')}
                          title="Shift+Enter"
                        >
                          Run
                        </button>
                        <button
                          type="button"
                          disabled={s.readOnly()}
                          onClick={() => doRun('upstream')}
                          title="Ctrl+Shift+Enter"
                        >
                          Run with upstream
                        </button>
                        <button
                          type="button"
                          disabled={s.readOnly()}
                          onClick={() => doRun('downstream')}
                          title="Alt+Shift+Enter"
                        >
                          Run with downstream
                        </button>
                      </>
                    }
                  >
                    <button
                      type="button"
                      class="first"
                      disabled={s.readOnly()}
                      onClick={() => run() && void s.runtime.cancel(run()!.runId)}
                    >
                      Cancel
                    </button>
                  </Show>
                </Show>
                <Show when={m().kind === 'sql'}>
                  <button type="button" disabled={s.readOnly()} onClick={() => void format()} title="Shift+Alt+F">
                    Format
                  </button>
                </Show>
                <button
                  type="button"
                  aria-label={`Move ${m().name} up`}
                  disabled={s.readOnly() || props.index === 0}
                  onClick={() => move(-1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  aria-label={`Move ${m().name} down`}
                  disabled={s.readOnly() || props.index >= props.total - 1}
                  onClick={() => move(1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  aria-label={`Duplicate ${m().name}`}
                  disabled={s.readOnly()}
                  onClick={() => s.store.ops.duplicate(props.id)}
                >
                  Duplicate
                </button>
                <button
                  type="button"
                  aria-label={`Delete ${m().name}`}
                  disabled={s.readOnly()}
                  onClick={() => {
                    if (window.confirm(`Delete cell "${m().name}"? Undo brings it back.`)) s.store.ops.remove(props.id);
                  }}
                >
                  Delete
                </button>
              </div>
            </Show>
          </header>
          <Show when={renameError()}>
            <p role="alert" class="error">
              {renameError()}
            </p>
          </Show>
          <Show when={hasEditor() && !live()}>
            <div class="cell-editor">
              <pre class="cell-editor-static">{staticText() || ' '}</pre>
            </div>
          </Show>
          <Show when={hasEditor() && live()}>
            <CellEditorHost
              session={s}
              id={props.id}
              name={m().name}
              language={m().kind === 'sql' ? 'sql' : 'text'}
              dialect={dialect()}
              error={editorError()}
              onRun={doRun}
              onMove={move}
              onFormat={() => void format()}
              onEscape={() => section.focus()}
              ref={(h) => {
                editor = h;
              }}
            />
          </Show>
          <Show when={hasForm() && full()}>
            <VisualStepForm
              kind={m().kind}
              config={m().config}
              candidates={candidates()}
              columnsOf={(id) => (id ? (s.store.runs[id]?.columns ?? []) : [])}
              readOnly={s.readOnly()}
              onPatch={(patch) => s.store.ops.setConfig(props.id, patch)}
            />
            <Show when={compiled()}>
              {(c) => (
                <details class="compiled" open>
                  <summary>SQL ({dialect()})</summary>
                  <Show when={'sql' in c()} fallback={<p class="error">{(c() as { error: string }).error}</p>}>
                    <pre class="compiled-sql" data-testid="compiled-sql" title={`Compiled SQL of ${m().name}`}>
                      {(c() as { sql: string }).sql}
                    </pre>
                  </Show>
                </details>
              )}
            </Show>
          </Show>
          <Show when={graphError()}>
            <p class="error graph-error" role="note">
              {graphError()!.message}
            </p>
          </Show>
          <Show when={canRun()}>
            <div
              class={`cell-status status-${status().stale ? 'stale' : status().status}`}
              aria-live="polite"
              data-status={status().stale ? 'stale' : status().status}
            >
              <span class="status-label">{status().label}</span>
              <Show when={s.runtime.progress[props.id]?.rows !== undefined}>
                <span class="status-rows"> · {s.runtime.progress[props.id]!.rows} rows so far</span>
              </Show>
              <Show when={status().busy}>
                {/* An indeterminate bar until the engine reports a fraction (value must then be finite). */}
                <Show
                  when={status().fraction ?? s.runtime.progress[props.id]?.fraction}
                  fallback={<progress aria-label={`Progress of ${m().name}`} />}
                >
                  {(f) => <progress aria-label={`Progress of ${m().name}`} max="1" value={f()} />}
                </Show>
              </Show>
            </div>
            <Show when={run()?.status === 'error' && run()?.error}>
              <p class="error run-error" role="alert">
                {run()!.error!.message}
                {run()!.error!.line ? ` (line ${run()!.error!.line})` : ''}
              </p>
            </Show>
          </Show>
          <Show when={full() && showResults()} keyed>
            {(_runId) => <ResultsPanel notebookId={s.id} cellId={props.id} cellName={m().name} />}
          </Show>
          <Show when={full() && m().kind !== 'markdown' && m().kind !== 'pyspark'}>
            <PreviewPanel session={s} cellId={props.id} cellName={m().name} />
          </Show>
        </section>
      )}
    </Show>
  );
}
