import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { PipebookError } from '../errors.ts';
import { CellId } from '../ids.ts';
import {
  addCell,
  addCells,
  deleteCell,
  duplicateCell,
  initNotebook,
  moveCell,
  renameCell,
  setConfig,
  setRun,
  setSource,
} from './operations.ts';
import { orderArray, readCells, readMeta, readOrder, readRuns } from './read.ts';

function notebook(names: string[]) {
  const doc = new Y.Doc();
  initNotebook(doc, { title: 't' });
  const ids = names.map((name) => addCell(doc, { kind: 'sql', name, source: `SELECT 1 AS ${name}` }));
  return { doc, ids };
}

describe('operations', () => {
  it('initialises meta once and keeps an existing title', () => {
    const doc = new Y.Doc();
    initNotebook(doc, { title: 'First' });
    initNotebook(doc, { title: 'Second' });
    expect(readMeta(doc)).toEqual({ title: 'First', schemaVersion: 1, defaultEngine: 'duckdb' });
  });

  it('adds cells at the end, after a cell, or at an index', () => {
    const { doc, ids } = notebook(['a', 'b']);
    const c = addCell(doc, { kind: 'sql', name: 'c' }, { after: ids[0] });
    const d = addCell(doc, { kind: 'sql', name: 'd' }, { index: 0 });
    expect(readOrder(doc)).toEqual([d, ids[0], c, ids[1]]);
  });

  it('refuses invalid and duplicate names (case-insensitively), naming the problem', () => {
    const { doc } = notebook(['orders']);
    expect(() => addCell(doc, { kind: 'sql', name: 'ORDERS' })).toThrow(/already exists/);
    expect(() => addCell(doc, { kind: 'sql', name: '1bad' })).toThrow(PipebookError);
    expect(() => addCell(doc, { kind: 'sql', name: 'x y' })).toThrow(/not a valid cell name/);
    expect(() => addCell(doc, { kind: 'nope' as 'sql' })).toThrow(/Unknown cell kind/);
    expect(readCells(doc).map((c) => c.name)).toEqual(['orders']);
  });

  it('generates free names when none is given', () => {
    const doc = new Y.Doc();
    const a = addCell(doc, { kind: 'filter' });
    const b = addCell(doc, { kind: 'filter' });
    expect(readCells(doc).map((c) => c.name)).toEqual(['filter', 'filter_2']);
    expect(a).not.toEqual(b);
  });

  it('moves only the id: the cell keeps its identity and text', () => {
    const { doc, ids } = notebook(['a', 'b', 'c']);
    const textBefore = readCells(doc)[0].source;
    moveCell(doc, ids[0], 2);
    expect(readOrder(doc)).toEqual([ids[1], ids[2], ids[0]]);
    expect(readCells(doc)[2]).toMatchObject({ id: ids[0], name: 'a', source: textBefore });
    moveCell(doc, ids[0], 0);
    expect(readOrder(doc)).toEqual(ids);
    moveCell(doc, ids[2], 1);
    expect(readOrder(doc)).toEqual([ids[0], ids[2], ids[1]]);
  });

  it('resolves repeated, dangling and missing ids deterministically', () => {
    const { doc, ids } = notebook(['a', 'b', 'c']);
    const order = orderArray(doc);
    order.insert(0, [ids[2], 'c_deleted']);
    order.delete(order.length - 1, 1); // c now only at the front, a repeat would be ignored
    order.push([ids[2]]);
    expect(readOrder(doc)).toEqual([ids[2], ids[0], ids[1]]);
    order.delete(0, order.length);
    // every cell missing from the order is appended, sorted by id
    expect(readOrder(doc)).toEqual([...ids].sort());
  });

  it('deletes a cell with its run, and duplicates with a fresh id and name', () => {
    const { doc, ids } = notebook(['a', 'b']);
    setRun(doc, ids[0], { status: 'done', runId: 'r', engine: 'duckdb', by: { id: 'u', name: 'U' } });
    const copy = duplicateCell(doc, ids[0]);
    expect(readCells(doc).map((c) => c.name)).toEqual(['a', 'a_copy', 'b']);
    expect(readCells(doc)[1]).toMatchObject({ id: copy, source: 'SELECT 1 AS a' });
    deleteCell(doc, ids[0]);
    expect(readOrder(doc)).toEqual([copy, ids[1]]);
    expect(readRuns(doc)).toEqual({});
    expect(() => deleteCell(doc, ids[0])).toThrow(/does not exist/);
  });

  it('runs each operation in exactly one transaction', () => {
    const { doc, ids } = notebook(['a', 'b']);
    let transactions = 0;
    doc.on('afterTransaction', () => transactions++);
    moveCell(doc, ids[1], 0);
    addCells(
      doc,
      [
        { kind: 'sql', name: 'x' },
        { kind: 'sql', name: 'y' },
      ],
      { after: ids[0] },
    );
    setConfig(doc, ids[0], { a: 1, b: [1, 2] });
    setSource(doc, ids[0], 'SELECT 2');
    expect(transactions).toBe(4);
    expect(readCells(doc).map((c) => c.name)).toEqual(['b', 'a', 'x', 'y']);
  });

  it('replaces source text with a minimal edit so a concurrent edit survives', () => {
    const a = new Y.Doc();
    const id = addCell(a, { kind: 'sql', name: 'q', source: 'SELECT amount FROM orders' });
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    setSource(a, id, 'SELECT amount FROM orders WHERE amount > 0');
    const text = b.getMap('cells').get(id) as Y.Map<unknown>;
    (text.get('source') as Y.Text).insert(7, 'id, ');
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    expect(readCells(a)[0].source).toBe('SELECT id, amount FROM orders WHERE amount > 0');
    expect(readCells(b)[0].source).toBe(readCells(a)[0].source);
  });

  it('renames a cell and refuses a taken name', () => {
    const { doc, ids } = notebook(['a', 'b']);
    renameCell(doc, ids[0], 'alpha');
    expect(readCells(doc)[0].name).toBe('alpha');
    expect(() => renameCell(doc, ids[0], 'B')).toThrow(/already exists/);
    expect(() => renameCell(doc, CellId.of('nope'), 'zz')).toThrow(/does not exist/);
  });

  it('setConfig removes fields set to undefined and stores copies', () => {
    const { doc, ids } = notebook(['a']);
    const value = { nested: [1] };
    setConfig(doc, ids[0], { keep: value, drop: 1 });
    value.nested.push(2);
    setConfig(doc, ids[0], { drop: undefined });
    expect(readCells(doc)[0].config).toEqual({ keep: { nested: [1] } });
  });
});

describe('renameCell rewrites readers', () => {
  it('rewrites SQL and PySpark readers in the same transaction, leaving strings and comments alone', () => {
    const doc = new Y.Doc();
    const orders = addCell(doc, { kind: 'sql', name: 'orders', source: 'SELECT 1 AS amount' });
    addCell(doc, { kind: 'sql', name: 'clean', source: "SELECT amount FROM orders WHERE 'orders' <> '' -- orders" });
    addCell(doc, { kind: 'pyspark', name: 'py', source: 'orders.filter("amount > 0")' });
    let transactions = 0;
    doc.on('afterTransaction', () => transactions++);
    renameCell(doc, orders, 'orders_v2');
    expect(transactions).toBe(1);
    const [, clean, py] = readCells(doc);
    expect(clean.source).toBe("SELECT amount FROM orders_v2 WHERE 'orders' <> '' -- orders");
    expect(py.source).toBe('orders_v2.filter("amount > 0")');
  });
});
