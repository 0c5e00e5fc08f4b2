import { type CellSnapshot, demoNotebookFile, fileToState, type NotebookState } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { filesToState, NOTEBOOK_FILE, stateToFiles } from './layout.ts';

const demo = (): NotebookState => fileToState(demoNotebookFile());

describe('layout', () => {
  it('writes one file per cell with the right extension, plus notebook.yaml', () => {
    const files = stateToFiles(demo());
    expect([...files.keys()].sort()).toEqual([
      'cells/customers.yaml',
      'cells/intro.md',
      'cells/orders.yaml',
      'cells/orders_clean.sql',
      'cells/orders_customers.yaml',
      'cells/revenue_by_country.yaml',
      'cells/revenue_report.yaml',
      'cells/top_countries.sql',
      NOTEBOOK_FILE,
    ]);
    expect(files.get('cells/orders_clean.sql')).toBe(
      "SELECT order_id, customer_id, order_date, amount\nFROM orders\nWHERE status <> 'cancelled' AND amount > 0\n",
    );
    expect(files.get('cells/revenue_by_country.yaml')).toContain('groupBy:\n  - country\n');
  });

  it('round-trips a state exactly, including odd sources and engines', () => {
    const state = demo();
    state.cells.push(
      { id: 'c_t1' as CellSnapshot['id'], name: 'trailing', kind: 'sql', source: 'SELECT 1\n\n', config: {} },
      {
        id: 'c_t2' as CellSnapshot['id'],
        name: 'crlf',
        kind: 'sql',
        source: 'SELECT 1\r\nFROM x',
        config: {},
        engine: 'snowflake',
      },
      { id: 'c_t3' as CellSnapshot['id'], name: 'empty', kind: 'pyspark', source: '', config: {} },
    );
    expect(filesToState(stateToFiles(state))).toEqual(state);
  });

  it('is stable: config key order does not change the bytes', () => {
    const a = demo();
    const b = demo();
    const agg = b.cells.find((c) => c.kind === 'aggregate')!;
    agg.config = Object.fromEntries(Object.entries(agg.config).reverse());
    expect(stateToFiles(b)).toEqual(stateToFiles(a));
  });

  it('refuses notebook.yaml entries that point outside cells/', () => {
    const files = stateToFiles(demo());
    const yaml = files.get(NOTEBOOK_FILE)!.replace('file: cells/intro.md', 'file: ../../etc/passwd');
    expect(() => filesToState(new Map([...files, [NOTEBOOK_FILE, yaml]]))).toThrow(/Refused file name/);
    const yaml2 = files.get(NOTEBOOK_FILE)!.replace('file: cells/intro.md', 'file: cells/../x.md');
    expect(() => filesToState(new Map([...files, [NOTEBOOK_FILE, yaml2]]))).toThrow(/Refused file name/);
  });
});
