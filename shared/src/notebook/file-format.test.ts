import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { PipebookError } from '../errors.ts';
import {
  applyNotebookState,
  docFromFile,
  exportNotebook,
  fileToState,
  parseNotebookFile,
  parseNotebookJson,
} from './file-format.ts';
import { addCell, initNotebook, setConfig, setRun } from './operations.ts';
import { readCells, readMeta, readRuns } from './read.ts';
import { demoNotebookFile } from './templates.ts';

describe('.pipebook.json', () => {
  it('round-trips a notebook through JSON', () => {
    const doc = docFromFile(demoNotebookFile());
    const file = exportNotebook(doc);
    const again = exportNotebook(docFromFile(parseNotebookJson(JSON.stringify(file))));
    expect(again).toEqual(file);
    expect(file.cells.map((c) => c.name)).toEqual(demoNotebookFile().cells.map((c) => c.name));
  });

  it('names the bad field of an invalid file', () => {
    const good = demoNotebookFile();
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, version: 2 }, /version/],
      [{ ...good, cells: [{ ...good.cells[0], name: 'has space' }] }, /cells\.0\.name/],
      [{ ...good, cells: [{ ...good.cells[0], kind: 'python' }] }, /cells\.0\.kind/],
      [{ ...good, cells: [good.cells[1], { ...good.cells[2], name: 'ORDERS' }] }, /cells\.1\.name: duplicate name/],
      [{ ...good, cells: [good.cells[1], good.cells[1]] }, /cells\.1\.id: duplicate id/],
      [{ ...good, title: '' }, /title/],
      [[], /\(file\)/],
    ];
    for (const [input, message] of cases) {
      expect(() => parseNotebookFile(input)).toThrow(message);
    }
    expect(() => parseNotebookJson('{"format": ')).toThrow(/not JSON/);
    try {
      parseNotebookFile({});
    } catch (e) {
      expect(e).toBeInstanceOf(PipebookError);
      expect((e as PipebookError).code).toBe('invalid_file');
    }
  });

  it('applies a whole state in one transaction, editing cells in place, and one undo reverts it', () => {
    const doc = docFromFile(demoNotebookFile());
    const before = exportNotebook(doc);
    const undo = new Y.UndoManager([doc.getMap('meta'), doc.getMap('cells'), doc.getArray('order')], {
      trackedOrigins: new Set(),
    });
    const state = fileToState(before);
    state.title = 'Restored';
    state.cells = state.cells.filter((c) => c.name !== 'top_countries');
    state.cells[3] = { ...state.cells[3], source: `${state.cells[3].source} AND amount < 1000` };
    state.cells.reverse();
    const origin = { source: 'restore' as const };
    undo.addTrackedOrigin(origin);
    let transactions = 0;
    doc.on('afterTransaction', () => transactions++);
    applyNotebookState(doc, state, origin);
    expect(transactions).toBe(1);
    expect(readMeta(doc).title).toBe('Restored');
    expect(readCells(doc).map((c) => c.name)).toEqual(state.cells.map((c) => c.name));
    undo.undo();
    expect(exportNotebook(doc)).toEqual(before);
  });

  it('drops runs of cells that a new state removes', () => {
    const doc = new Y.Doc();
    initNotebook(doc);
    const a = addCell(doc, { kind: 'sql', name: 'a' });
    const b = addCell(doc, { kind: 'sql', name: 'b' });
    setConfig(doc, a, { x: 1 });
    setRun(doc, a, { status: 'done', runId: 'r', engine: 'duckdb', by: { id: 'u', name: 'U' } });
    setRun(doc, b, { status: 'done', runId: 'r', engine: 'duckdb', by: { id: 'u', name: 'U' } });
    const state = fileToState(exportNotebook(doc));
    applyNotebookState(doc, { ...state, cells: state.cells.filter((c) => c.id === b) });
    expect(Object.keys(readRuns(doc))).toEqual([b]);
  });
});
