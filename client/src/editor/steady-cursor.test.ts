import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { createCellEditor, TYPING_STEADY_MS } from './cell-editor.ts';

describe('drawn cursor while typing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const editor = () => {
    const doc = new Y.Doc();
    const text = doc.getText('t');
    text.insert(0, 'SELECT 1');
    const parent = document.createElement('div');
    document.body.append(parent);
    const handle = createCellEditor({
      parent,
      text,
      awareness: new Awareness(doc),
      undoManager: new Y.UndoManager(text),
      language: 'sql',
      dialect: 'duckdb',
      readOnly: false,
      label: 'cell',
    });
    return { doc, text, handle };
  };

  it('holds the cursor steady while the cursor moves with typing, and lets it blink again after a pause', () => {
    const { handle } = editor();
    const dom = handle.view.dom;
    expect(dom.classList.contains('cm-typing')).toBe(false);
    handle.view.dispatch({ changes: { from: 8, insert: 'x' }, selection: { anchor: 9 } });
    expect(dom.classList.contains('cm-typing')).toBe(true);
    vi.advanceTimersByTime(TYPING_STEADY_MS - 100);
    handle.view.dispatch({ changes: { from: 9, insert: 'y' }, selection: { anchor: 10 } });
    vi.advanceTimersByTime(TYPING_STEADY_MS - 100);
    expect(dom.classList.contains('cm-typing')).toBe(true);
    vi.advanceTimersByTime(100);
    expect(dom.classList.contains('cm-typing')).toBe(false);
    handle.destroy();
  });

  it("leaves the blink alone when someone else's edit arrives", () => {
    const { text, handle } = editor();
    text.insert(0, '-- hi\n');
    expect(handle.view.state.doc.toString()).toBe('-- hi\nSELECT 1');
    expect(handle.view.dom.classList.contains('cm-typing')).toBe(false);
    handle.destroy();
  });
});
