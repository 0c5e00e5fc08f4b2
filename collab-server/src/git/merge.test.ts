import { type CellId, type CellSnapshot, demoNotebookFile, fileToState, type NotebookState } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { mergeOrder, mergeStates } from './merge.ts';
import { diffStates } from './notebook-diff.ts';

const base = (): NotebookState => fileToState(demoNotebookFile());
const edit = (s: NotebookState, id: string, patch: Partial<CellSnapshot>): NotebookState => ({
  ...s,
  cells: s.cells.map((c) => (c.id === id ? { ...c, ...patch } : c)),
});

describe('mergeStates', () => {
  it('merges edits to different cells and different fields of one cell', () => {
    const b = base();
    const ours = edit(edit(b, 'demo_orders_clean', { name: 'clean_orders' }), 'demo_intro', { source: '# Ours' });
    const theirs = edit(b, 'demo_orders_clean', { source: 'SELECT * FROM orders' });
    const r = mergeStates(b, ours, theirs);
    expect(r.conflicts).toEqual([]);
    const c = r.state.cells.find((x) => x.id === 'demo_orders_clean')!;
    expect(c).toMatchObject({ name: 'clean_orders', source: 'SELECT * FROM orders' });
    expect(r.state.cells.find((x) => x.id === 'demo_intro')!.source).toBe('# Ours');
  });

  it('reports a cell changed on both sides as one conflict and merges the rest', () => {
    const b = base();
    const ours = edit(edit(b, 'demo_top_countries', { source: 'SELECT 1' }), 'demo_intro', { source: '# A' });
    const theirs = edit(edit(b, 'demo_top_countries', { source: 'SELECT 2' }), 'demo_orders_clean', {
      source: 'SELECT 3',
    });
    const r = mergeStates(b, ours, theirs);
    expect(r.conflicts.map((c) => [c.id, c.reason, c.fields])).toEqual([
      ['demo_top_countries', 'both_changed', ['source']],
    ]);
    const byId = new Map(r.state.cells.map((c) => [c.id as string, c]));
    expect(byId.get('demo_top_countries')!.source).toBe('SELECT 1');
    expect(byId.get('demo_intro')!.source).toBe('# A');
    expect(byId.get('demo_orders_clean')!.source).toBe('SELECT 3');
    expect(r.conflicts[0].diff).toContain('-SELECT 1\n+SELECT 2');
    const theirsWins = mergeStates(b, ours, theirs, { demo_top_countries: 'theirs' });
    expect(theirsWins.state.cells.find((c) => c.id === 'demo_top_countries')!.source).toBe('SELECT 2');
  });

  it('combines edits to different lines of one cell', () => {
    const b = base();
    const src = b.cells.find((c) => c.id === 'demo_top_countries')!.source;
    const ours = edit(b, 'demo_top_countries', {
      source: src.replace('SELECT country, revenue, order_count', 'SELECT country, revenue'),
    });
    const theirs = edit(b, 'demo_top_countries', { source: src.replace('LIMIT 10', 'LIMIT 3') });
    const r = mergeStates(b, ours, theirs);
    expect(r.conflicts).toEqual([]);
    expect(r.state.cells.find((c) => c.id === 'demo_top_countries')!.source).toBe(
      'SELECT country, revenue\nFROM revenue_by_country\nORDER BY revenue DESC\nLIMIT 3',
    );
  });

  it('handles delete versus change, additions on both sides and duplicate names', () => {
    const b = base();
    const ours: NotebookState = {
      ...b,
      cells: [
        ...b.cells.filter((c) => c.id !== 'demo_intro'),
        { id: 'c_o' as CellId, name: 'extra', kind: 'sql', source: 'SELECT 1', config: {} },
      ],
    };
    const theirs = edit(b, 'demo_intro', { source: '# changed' });
    theirs.cells.splice(3, 0, { id: 'c_t' as CellId, name: 'extra', kind: 'sql', source: 'SELECT 2', config: {} });
    const r = mergeStates(b, ours, theirs);
    expect(r.conflicts.map((c) => [c.id, c.reason])).toEqual([
      ['demo_intro', 'deleted_and_changed'],
      ['c_t', 'duplicate_name'],
    ]);
    expect(r.state.cells.some((c) => c.id === 'demo_intro')).toBe(false);
    expect(r.state.cells.find((c) => c.id === 'c_t')!.name).toBe('extra_2');
    // Theirs' new cell lands after its predecessor in their order.
    const ids = r.state.cells.map((c) => c.id);
    expect(ids.indexOf('c_t' as CellId)).toBe(ids.indexOf('demo_customers' as CellId) + 1);
  });

  it('takes the reordering side', () => {
    expect(mergeOrder(['a', 'b', 'c'], ['a', 'b', 'c', 'd'], ['c', 'b', 'a'], new Set(['a', 'b', 'c', 'd']))).toEqual([
      'c',
      'd',
      'b',
      'a',
    ]);
  });
});

describe('diffStates', () => {
  it('reports added, removed, renamed and changed cells and nothing else', () => {
    const a = base();
    let b = edit(a, 'demo_orders_clean', { source: 'SELECT *\nFROM orders' });
    b = edit(b, 'demo_top_countries', { name: 'best_countries' });
    b.cells = b.cells.filter((c) => c.id !== 'demo_intro');
    b.cells.push({ id: 'c_new' as CellId, name: 'fresh', kind: 'sql', source: 'SELECT 42', config: {} });
    const d = diffStates(a, b);
    expect(d.cells.map((c) => [c.id, c.status]).sort()).toEqual([
      ['c_new', 'added'],
      ['demo_intro', 'removed'],
      ['demo_orders_clean', 'changed'],
      ['demo_top_countries', 'renamed'],
    ]);
    const changed = d.cells.find((c) => c.id === 'demo_orders_clean')!;
    expect(changed.diff).toContain('+SELECT *');
    expect(changed.diff).toContain("-WHERE status <> 'cancelled' AND amount > 0");
    const renamed = d.cells.find((c) => c.id === 'demo_top_countries')!;
    expect(renamed).toMatchObject({ previousName: 'top_countries', name: 'best_countries', diff: '' });
    expect(d.orderChanged).toBe(false);
  });
});
