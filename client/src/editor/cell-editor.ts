// One cell's CodeMirror 6 editor, bound to the cell's Y.Text with y-codemirror.next. Everything that can change
// while the editor lives (dialect, read-only, reported errors) sits in its own Compartment, so a change reconfigures
// only that part instead of rebuilding the editor.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, indentWithTab } from '@codemirror/commands';
import { sql } from '@codemirror/lang-sql';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, setDiagnostics } from '@codemirror/lint';
import { Compartment, EditorState, type Extension } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, keymap, placeholder, ViewPlugin } from '@codemirror/view';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next';
import type * as Y from 'yjs';
import { codemirrorDialect } from './dialects.ts';

export type EditorLanguage = 'sql' | 'text';
export type RunScope = 'cell' | 'upstream' | 'downstream';

export interface CellEditorOptions {
  parent: HTMLElement;
  text: Y.Text;
  awareness: unknown;
  undoManager: Y.UndoManager;
  language: EditorLanguage;
  dialect: Dialect;
  readOnly: boolean;
  label: string;
  completion?: Extension;
  placeholder?: string;
  onRun?(scope: RunScope): void;
  onMove?(delta: -1 | 1): void;
  onFormat?(): void;
  onFocus?(): void;
  onEscape?(): void;
}

export interface ReportedError {
  message: string;
  /** 1-based line in the cell's own source. */
  line?: number;
  column?: number;
}

export interface CellEditorHandle {
  readonly view: EditorView;
  setDialect(d: Dialect): void;
  setReadOnly(readOnly: boolean): void;
  setError(error: ReportedError | undefined): void;
  destroy(): void;
}

/** Where to underline an engine error: the reported line (whole line, or from the column on); line 1 if unknown. */
export function errorRange(doc: string, err: ReportedError): { from: number; to: number } {
  const lines = doc.split('\n');
  const lineNo = Math.min(Math.max(err.line ?? 1, 1), Math.max(lines.length, 1));
  let from = 0;
  for (let i = 0; i < lineNo - 1; i++) from += lines[i].length + 1;
  const text = lines[lineNo - 1] ?? '';
  const col = err.column && err.column > 0 ? Math.min(err.column - 1, text.length) : 0;
  let start = from + col;
  let end = from + text.length;
  if (err.column === undefined) {
    start = from + (text.length - text.trimStart().length);
  }
  if (end <= start) end = Math.min(start + 1, doc.length);
  if (end <= start) start = Math.max(0, end - 1);
  return { from: start, to: end };
}

// One language support per dialect, shared by every editor: building it computes the keyword completions, which
// would otherwise be repeated for each of hundreds of cells.
const SQL_SUPPORT = new Map<Dialect, Extension>();

function languageExt(lang: EditorLanguage, dialect: Dialect): Extension {
  if (lang !== 'sql') return [];
  let ext = SQL_SUPPORT.get(dialect);
  if (!ext) {
    ext = sql({ dialect: codemirrorDialect(dialect), upperCaseKeywords: true });
    SQL_SUPPORT.set(dialect, ext);
  }
  return ext;
}

/** How long after the last cursor move the drawn cursor starts blinking again. */
export const TYPING_STEADY_MS = 600;

// drawSelection restarts its CSS blink animation on every cursor move (so the cursor shows while you type). Starting
// a new animation costs the page a second rendering frame per keystroke, and the browser holds other work until that
// frame is done: with hundreds of editors on the page this was a third of each keystroke's latency. Instead the cursor
// is held steady (no animation) while the person types, and blinks again once they pause.
const steadyCursorWhileTyping: Extension = [
  ViewPlugin.fromClass(
    class {
      timer: ReturnType<typeof setTimeout> | undefined;
      constructor(readonly view: EditorView) {}
      update(u: { transactions: readonly { selection: unknown }[] }) {
        if (!u.transactions.some((tr) => tr.selection)) return;
        if (!this.view.dom.classList.contains('cm-typing')) this.view.dom.classList.add('cm-typing');
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.view.dom.classList.remove('cm-typing');
        }, TYPING_STEADY_MS);
      }
      destroy() {
        if (this.timer !== undefined) clearTimeout(this.timer);
      }
    },
  ),
  EditorView.baseTheme({ '&.cm-typing .cm-cursorLayer': { animation: 'none !important' } }),
];

export function createCellEditor(o: CellEditorOptions): CellEditorHandle {
  const languageC = new Compartment();
  const readOnlyC = new Compartment();
  const ro = (r: boolean) => [EditorState.readOnly.of(r), EditorView.editable.of(!r)];
  const runKeys = [
    {
      key: 'Shift-Enter',
      run: () => {
        o.onRun?.('cell');
        return true;
      },
    },
    {
      key: 'Mod-Shift-Enter',
      run: () => {
        o.onRun?.('upstream');
        return true;
      },
    },
    {
      key: 'Alt-Shift-Enter',
      run: () => {
        o.onRun?.('downstream');
        return true;
      },
    },
    {
      key: 'Alt-ArrowUp',
      run: () => {
        o.onMove?.(-1);
        return true;
      },
    },
    {
      key: 'Alt-ArrowDown',
      run: () => {
        o.onMove?.(1);
        return true;
      },
    },
    {
      key: 'Shift-Alt-f',
      run: () => {
        o.onFormat?.();
        return true;
      },
    },
    {
      key: 'Escape',
      run: () => {
        o.onEscape?.();
        return true;
      },
    },
  ];
  const state = EditorState.create({
    doc: o.text.toString(),
    extensions: [
      keymap.of(runKeys),
      keymap.of([...yUndoManagerKeymap, ...closeBracketsKeymap, ...completionKeymap, ...defaultKeymap, indentWithTab]),
      drawSelection(),
      steadyCursorWhileTyping,
      highlightActiveLine(),
      bracketMatching(),
      closeBrackets(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      autocompletion({ activateOnTyping: true }),
      o.completion ?? [],
      languageC.of(languageExt(o.language, o.dialect)),
      readOnlyC.of(ro(o.readOnly)),
      o.placeholder ? placeholder(o.placeholder) : [],
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ 'aria-label': o.label, 'aria-multiline': 'true' }),
      EditorView.domEventHandlers({
        focus: () => {
          o.onFocus?.();
          return false;
        },
      }),
      yCollab(o.text, o.awareness, { undoManager: o.undoManager }),
    ],
  });
  const view = new EditorView({ state, parent: o.parent });
  let dialect = o.dialect;
  return {
    view,
    setDialect(d) {
      if (d === dialect) return;
      dialect = d;
      view.dispatch({ effects: languageC.reconfigure(languageExt(o.language, d)) });
    },
    setReadOnly(r) {
      view.dispatch({ effects: readOnlyC.reconfigure(ro(r)) });
    },
    setError(err) {
      const doc = view.state.doc.toString();
      const diagnostics: Diagnostic[] = err
        ? [{ ...errorRange(doc, err), severity: 'error', message: err.message }]
        : [];
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    destroy() {
      view.destroy();
    },
  };
}
