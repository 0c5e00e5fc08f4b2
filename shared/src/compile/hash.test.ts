import { describe, expect, it } from 'vitest';
import type { CellId } from '../ids.ts';
import { docFromFile, fileToState } from '../notebook/file-format.ts';
import { renameCell } from '../notebook/operations.ts';
import { readCells } from '../notebook/read.ts';
import type { CellSnapshot } from '../notebook/schema.ts';
import { demoNotebookFile } from '../notebook/templates.ts';
import { canonicalJson, fnv1a64, inputHashes } from './hash.ts';

const demo = () => fileToState(demoNotebookFile()).cells;
const edit = (cells: CellSnapshot[], id: string, patch: Partial<CellSnapshot>) =>
  cells.map((c) => (c.id === id ? { ...c, ...patch } : c));

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64-bit test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });
  it('hashes the UTF-8 bytes, so non-ASCII text hashes like its encoding', () => {
    expect(fnv1a64('é')).toBe(fnv1a64('\u00e9'));
    expect(fnv1a64('é')).not.toBe(fnv1a64('e\u0301'));
  });
});

describe('inputHashes', () => {
  it('gives every cell a hash, the same for equal notebooks and per dialect', () => {
    const a = inputHashes(demo(), 'duckdb');
    expect(a.size).toBe(demo().length);
    expect(inputHashes(demo(), 'duckdb')).toEqual(a);
    expect(inputHashes(demo(), 'snowflake').get('demo_orders' as CellId)).not.toBe(a.get('demo_orders' as CellId));
  });

  it('changes a cell and everything downstream when its SQL changes, and nothing else', () => {
    const before = inputHashes(demo(), 'duckdb');
    const after = inputHashes(
      edit(demo(), 'demo_orders_clean', {
        source: "SELECT order_id, customer_id, order_date, amount\nFROM orders\nWHERE status <> 'cancelled'",
      }),
      'duckdb',
    );
    const changed = [...before.keys()].filter((id) => before.get(id) !== after.get(id)).sort();
    expect(changed).toEqual(
      [
        'demo_orders_clean',
        'demo_orders_customers',
        'demo_revenue_by_country',
        'demo_top_countries',
        'demo_report',
      ].sort(),
    );
  });

  it('changes downstream of a config change, and ignores config key order', () => {
    const before = inputHashes(demo(), 'duckdb');
    const reordered = edit(demo(), 'demo_customers', { config: { table: 'customers', type: 'table' } });
    expect(inputHashes(reordered, 'duckdb')).toEqual(before);
    const retargeted = edit(demo(), 'demo_customers', { config: { type: 'table', table: 'customers_v2' } });
    const after = inputHashes(retargeted, 'duckdb');
    expect(after.get('demo_orders_clean' as CellId)).toBe(before.get('demo_orders_clean' as CellId));
    expect(after.get('demo_orders_customers' as CellId)).not.toBe(before.get('demo_orders_customers' as CellId));
  });

  it('is not changed by renaming a cell with the rename operation (qualifiers included)', () => {
    const file = demoNotebookFile();
    file.cells.push({
      id: 'q',
      name: 'q',
      kind: 'sql',
      source: 'SELECT orders_clean.amount FROM orders_clean WHERE orders_clean.amount > 1',
      config: {},
    });
    const doc = docFromFile(file);
    const before = inputHashes(readCells(doc), 'duckdb');
    renameCell(doc, 'demo_orders_clean' as CellId, 'clean');
    expect(readCells(doc).find((c) => c.id === 'q')?.source).toBe(
      'SELECT clean.amount FROM clean WHERE clean.amount > 1',
    );
    expect(inputHashes(readCells(doc), 'duckdb')).toEqual(before);
  });

  it('is not changed by renaming a cell together with the references to it, or by unrelated cells', () => {
    const before = inputHashes(demo(), 'duckdb');
    const renamed = demo().map((c) =>
      c.id === 'demo_revenue_by_country'
        ? { ...c, name: 'revenue' }
        : c.id === 'demo_top_countries'
          ? { ...c, source: c.source.replace('FROM revenue_by_country', 'FROM revenue') }
          : c,
    );
    const extra: CellSnapshot = { id: 'x' as CellId, name: 'x', kind: 'sql', source: 'SELECT 42', config: {} };
    const after = inputHashes([...renamed, extra], 'duckdb');
    for (const id of before.keys()) expect(after.get(id)).toBe(before.get(id));
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: [{ y: 1, x: 2 }], a: null, c: undefined })).toBe('{"a":null,"b":[{"x":2,"y":1}]}');
  });
});
