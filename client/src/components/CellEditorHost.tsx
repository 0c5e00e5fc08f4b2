import type { CellId } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { createEffect, on, onCleanup, onMount } from 'solid-js';
import {
  type CellEditorHandle,
  createCellEditor,
  type EditorLanguage,
  type ReportedError,
  type RunScope,
} from '../editor/cell-editor.ts';
import { cellCompletion } from '../editor/completion.ts';
import { scopedAwareness } from '../editor/scoped-awareness.ts';
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
  /** Called with the editor once it exists, and with undefined when it is destroyed. */
  ref?(handle: CellEditorHandle | undefined): void;
}

/** The cell's CodeMirror editor, created when the host mounts and bound to the cell's Y.Text until it unmounts. */
export function CellEditorHost(props: CellEditorHostProps) {
  const s = props.session;
  let box!: HTMLDivElement;
  let handle: CellEditorHandle | undefined;

  onMount(() => {
    const text = s.store.text(props.id);
    if (!text) return;
    handle = createCellEditor({
      parent: box,
      text,
      awareness: scopedAwareness(s.conn.awareness, s.cursorIndex, text),
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
    props.ref?.(handle);
    box.dataset.editor = 'ready';
    onCleanup(() => {
      handle?.destroy();
      handle = undefined;
      props.ref?.(undefined);
    });
  });

  createEffect(
    on(
      () => props.dialect,
      (d) => handle?.setDialect(d),
      { defer: true },
    ),
  );
  createEffect(on(s.readOnly, (r) => handle?.setReadOnly(r), { defer: true }));
  createEffect(
    on(
      () => props.error,
      (e) => handle?.setError(e),
      { defer: !props.error },
    ),
  );

  return <div class="cell-editor" ref={box} />;
}
