import type { CellId } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { createEffect, createSignal, on, onCleanup, onMount, Show } from 'solid-js';
import {
  type CellEditorHandle,
  createCellEditor,
  type EditorLanguage,
  type ReportedError,
  type RunScope,
} from '../editor/cell-editor.ts';
import { cellCompletion } from '../editor/completion.ts';
import type { NotebookSession } from '../state/session.ts';

export interface CellEditorHostProps {
  session: NotebookSession;
  id: CellId;
  name: string;
  language: EditorLanguage;
  dialect: Dialect;
  error: ReportedError | undefined;
  onRun(scope: RunScope): void;
  onMove(delta: -1 | 1): void;
  onFormat(): void;
  onEscape(): void;
  ref?(handle: CellEditorHandle): void;
}

/**
 * Shows the cell's text at once as a plain block, then swaps in the CodeMirror editor when the mount queue gets to
 * it (or at once on click/focus). Same font and padding, so the swap moves nothing on screen.
 */
export function CellEditorHost(props: CellEditorHostProps) {
  const s = props.session;
  const text = s.store.text(props.id);
  const [handle, setHandle] = createSignal<CellEditorHandle>();
  const [initial] = createSignal(text?.toString() ?? '');
  let box!: HTMLDivElement;

  const mount = () => {
    if (handle() || !text) return;
    const h = createCellEditor({
      parent: box,
      text,
      awareness: s.conn.awareness,
      undoManager: s.store.undoManager,
      language: props.language,
      dialect: props.dialect,
      readOnly: s.readOnly(),
      label: `${props.name} ${props.language === 'sql' ? 'SQL' : 'text'}`,
      completion: props.language === 'sql' ? cellCompletion(s.completionSchema, () => props.dialect) : undefined,
      placeholder: props.language === 'sql' ? 'SELECT … FROM another_cell' : undefined,
      onRun: (scope) => props.onRun(scope),
      onMove: (d) => props.onMove(d),
      onFormat: () => props.onFormat(),
      onFocus: () => s.focus(props.id),
      onEscape: () => props.onEscape(),
    });
    setHandle(h);
    props.ref?.(h);
    box.parentElement!.dataset.editor = 'ready';
  };

  onMount(() => {
    const unregister = s.mountQueue.add(props.id, mount, () => {
      const r = box.getBoundingClientRect();
      return r.top < 0 ? 1e6 - r.top : r.top;
    });
    onCleanup(() => {
      unregister();
      handle()?.destroy();
    });
  });

  createEffect(
    on(
      () => props.dialect,
      (d) => handle()?.setDialect(d),
      { defer: true },
    ),
  );
  createEffect(() => handle()?.setReadOnly(s.readOnly()));
  createEffect(() => handle()?.setError(props.error));

  return (
    <div
      class="cell-editor"
      onPointerDown={() => s.mountQueue.now(props.id)}
      onFocusIn={() => {
        if (!handle()) {
          s.mountQueue.now(props.id);
          handle()?.view.focus();
        }
      }}
    >
      <Show when={!handle()}>
        <pre class="cell-editor-static" tabindex="-1">
          {initial() || ' '}
        </pre>
      </Show>
      <div ref={box} />
    </div>
  );
}
