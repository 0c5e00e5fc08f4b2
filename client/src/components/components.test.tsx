import { fireEvent, render, screen, within } from '@solidjs/testing-library';
import { createRoot, createSignal } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import type { ResultPager } from '../state/results.ts';
import { ConnectionBadge } from './ConnectionBadge.tsx';
import { DagView } from './DagView.tsx';
import { PresenceBar } from './PresenceBar.tsx';
import { ResultsGrid } from './ResultsGrid.tsx';
import { VisualStepForm } from './VisualStepForm.tsx';

const columns = [
  { name: 'country', type: 'VARCHAR' },
  { name: 'amount', type: 'DECIMAL(18,2)' },
];

describe('VisualStepForm', () => {
  it('edits a filter condition as one whole-list patch, with upstream columns suggested', async () => {
    const onPatch = vi.fn();
    render(() => (
      <VisualStepForm
        kind="filter"
        config={{ input: 'c_src', combinator: 'and', conditions: [{ column: 'amount', op: '>', value: 10 }] }}
        candidates={[{ id: 'c_src', name: 'orders' }]}
        columnsOf={(id) => (id === 'c_src' ? columns : [])}
        readOnly={false}
        onPatch={onPatch}
      />
    ));
    const value = screen.getByLabelText('Value') as HTMLInputElement;
    expect(value.value).toBe('10');
    fireEvent.change(value, { target: { value: '250.5' } });
    expect(onPatch).toHaveBeenLastCalledWith({ conditions: [{ column: 'amount', op: '>', value: 250.5 }] });
    fireEvent.change(screen.getByLabelText('Operator'), { target: { value: 'in' } });
    expect(onPatch).toHaveBeenLastCalledWith({ conditions: [{ column: 'amount', op: 'in', value: [10] }] });
    fireEvent.click(screen.getByRole('button', { name: 'Add condition' }));
    expect(onPatch.mock.lastCall![0].conditions).toHaveLength(2);
    const options = [...document.querySelectorAll('datalist option')].map((o) => (o as HTMLOptionElement).value);
    expect(options).toEqual(['country', 'amount']);
    expect((screen.getByLabelText('Input') as HTMLSelectElement).value).toBe('c_src');
  });

  it('is read-only for viewers', () => {
    render(() => (
      <VisualStepForm
        kind="limit"
        config={{ input: 'x', count: 5 }}
        candidates={[]}
        columnsOf={() => []}
        readOnly
        onPatch={() => {}}
      />
    ));
    expect((screen.getByLabelText('Rows') as HTMLInputElement).disabled).toBe(true);
  });

  it('names a new aggregate measure after its function and column', () => {
    const onPatch = vi.fn();
    render(() => (
      <VisualStepForm
        kind="aggregate"
        config={{ input: 'c', groupBy: ['country'], measures: [{ fn: 'sum', as: 'row_count' }] }}
        candidates={[]}
        columnsOf={() => columns}
        readOnly={false}
        onPatch={onPatch}
      />
    ));
    const measure = screen.getByRole('group', { name: 'Measure 1' });
    fireEvent.change(measure.querySelector('input[list]')!, { target: { value: 'amount' } });
    expect(onPatch).toHaveBeenLastCalledWith({ measures: [{ fn: 'sum', column: 'amount', as: 'sum_amount' }] });
  });

  it.each([
    ['target', 'Write to', 'parquet'],
    ['source', 'Read from', 'csv'],
  ] as const)('a %s reads a table (name, schema) or a file (path, format)', (kind, label, format) => {
    const onPatch = vi.fn();
    const [config, setConfig] = createSignal<Record<string, unknown>>({ input: 'c', table: 'sales' });
    const { container } = render(() => (
      <VisualStepForm
        kind={kind}
        config={config()}
        candidates={[]}
        columnsOf={() => []}
        readOnly={false}
        onPatch={(patch) => {
          onPatch(patch);
          setConfig({ ...config(), ...patch });
        }}
      />
    ));
    const q = within(container);
    expect((q.getByLabelText('Table') as HTMLInputElement).value).toBe('sales');
    // Only a target has a write mode, and only for a table.
    expect(q.queryByLabelText('Mode') !== null).toBe(kind === 'target');
    fireEvent.change(q.getByLabelText('Schema'), { target: { value: '' } });
    expect(onPatch).toHaveBeenLastCalledWith({ schema: undefined });
    fireEvent.change(q.getByLabelText(label), { target: { value: 'file' } });
    expect(onPatch).toHaveBeenLastCalledWith({ type: 'file' });
    expect(q.queryByLabelText('Table')).toBeNull();
    expect(q.queryByLabelText('Mode')).toBeNull();
    expect((q.getByLabelText('Format') as HTMLSelectElement).value).toBe(format);
    fireEvent.change(q.getByLabelText('Path'), { target: { value: 'out/sales.csv' } });
    expect(onPatch).toHaveBeenLastCalledWith({ path: 'out/sales.csv' });
  });
});

function fakePager(rowCount: number): ResultPager & { ensured: Array<[number, number]> } {
  const [version] = createSignal(0);
  const ensured: Array<[number, number]> = [];
  return {
    columns: () => columns,
    rowCount: () => rowCount,
    error: () => undefined,
    version,
    row: (i) => [`country ${i}`, i * 2],
    ensure: (from, to) => {
      ensured.push([from, to]);
    },
    dispose: () => {},
    ensured,
  };
}

describe('ResultsGrid', () => {
  it('renders only the visible window of a large result, with types in the headers and the row count', () => {
    const pager = fakePager(1_000_000);
    render(() => <ResultsGrid pager={pager} label="Rows of big" />);
    const grid = screen.getByRole('grid', { name: 'Rows of big' });
    expect(screen.getByText('1,000,000 rows')).toBeInTheDocument();
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      '#',
      'countryVARCHAR',
      'amountDECIMAL(18,2)',
    ]);
    const rows = grid.querySelectorAll('.grid-row');
    expect(rows.length).toBeLessThan(40);
    expect(pager.ensured[0]).toEqual([0, rows.length]);
    grid.scrollTop = 26 * 500_000;
    fireEvent.scroll(grid);
    const first = grid.querySelector('.grid-row .rownum')!.textContent;
    expect(Number(first)).toBeGreaterThan(499_000);
    expect(pager.ensured.at(-1)![0]).toBeGreaterThan(499_000);
  });
});

describe('DagView', () => {
  it('draws nodes with status classes and the edges given, and selects a node by click or keyboard', () => {
    const onSelect = vi.fn();
    render(() => (
      <DagView
        cells={[
          { id: 'a', name: 'orders', kind: 'source' },
          { id: 'b', name: 'clean', kind: 'sql' },
        ]}
        edges={[{ from: 'a', to: 'b' }]}
        statusOf={(id) => (id === 'a' ? 'done' : 'stale')}
        errorOf={() => undefined}
        onSelect={onSelect}
      />
    ));
    expect(document.querySelectorAll('path.dag-edge[data-from="a"][data-to="b"]')).toHaveLength(1);
    const node = screen.getByRole('button', { name: 'clean (sql), stale' });
    expect(node.getAttribute('class')).toContain('status-stale');
    fireEvent.click(node);
    fireEvent.keyDown(screen.getByRole('button', { name: 'orders (source), done' }), { key: 'Enter' });
    expect(onSelect.mock.calls).toEqual([['b'], ['a']]);
  });
});

describe('PresenceBar and connection state', () => {
  it('says who is here and where, and jumps to a colleague’s cell', () => {
    const onGoTo = vi.fn();
    render(() => (
      <PresenceBar
        peers={[
          { clientId: 1, userId: 'me', name: 'Me', color: '#000', self: true },
          { clientId: 2, userId: 'b', name: 'Bob', color: '#f00', cellId: 'c1', self: false },
        ]}
        cellName={(id) => (id === 'c1' ? 'orders_clean' : undefined)}
        onGoTo={onGoTo}
      />
    ));
    fireEvent.click(screen.getByRole('button', { name: 'Bob, in orders_clean' }));
    expect(onGoTo).toHaveBeenCalledWith('c1');
    expect(screen.getByRole('button', { name: 'Me (you)' })).toBeDisabled();
  });

  it('explains a refused connection', () => {
    createRoot((dispose) => {
      render(() => <ConnectionBadge state={{ kind: 'closed', code: 4403, reason: 'revoked' }} />);
      expect(screen.getByText(/no longer have access.*revoked/)).toBeInTheDocument();
      dispose();
    });
  });
});
