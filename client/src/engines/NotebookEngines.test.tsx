import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { createEffect, createRoot, createSignal } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineBar } from './NotebookEngines.tsx';
import {
  createSessionPoller,
  describeSession,
  parseEngineSessions,
  type SessionRow,
  sessionEnginesOf,
  sessionRowsFor,
} from './sessions.ts';

const ENGINES = [
  { name: 'duckdb', type: 'duckdb', dialect: 'duckdb', label: 'DuckDB (embedded)' },
  { name: 'spark', type: 'livy', dialect: 'databricks', label: 'Spark (Livy)' },
  { name: 'cluster', type: 'databricks-cluster', dialect: 'databricks', label: 'Cluster' },
  { name: 'snow', type: 'snowflake', dialect: 'snowflake', label: 'Snowflake' },
];

/** The shape docs/spark.md gives for `GET /api/engines/:name/sessions`. */
const listing = (engine: string, sessions: unknown[]) => ({ engine, type: 'livy', sessions });

describe('engine sessions', () => {
  it('watches the engines the notebook uses, default or per cell, that the kernel lists', () => {
    expect(sessionEnginesOf(ENGINES, 'duckdb', [undefined, 'snow'])).toEqual(['duckdb', 'snow']);
    expect(sessionEnginesOf(ENGINES, 'spark', [undefined])).toEqual(['spark']);
    expect(sessionEnginesOf(ENGINES, 'snow', ['cluster', 'spark', 'cluster'])).toEqual(['cluster', 'snow', 'spark']);
    // A name the kernel does not list has no sessions to ask about.
    expect(sessionEnginesOf(ENGINES, 'gone', [])).toEqual([]);
  });

  it('reads the listing, keeps this notebook’s sessions and drops malformed ones', () => {
    const parsed = parseEngineSessions(
      listing('spark', [
        { notebookId: 'nb1', kind: 'sql', sessionId: '4', phase: 'idle', raw: 'idle', since: 1, cells: ['c_a'] },
        { notebookId: 'nb1', kind: 'pyspark', phase: 'starting', raw: 'not_started', cells: [] },
        { notebookId: '', kind: 'sql', sessionId: '1', phase: 'busy', cells: [] },
        { notebookId: 'nb2', kind: 'sql', sessionId: '2', phase: 'dead', cells: [], error: 'Livy session 2 is dead.' },
        { notebookId: 'nb1', kind: 'sql', phase: 'exploded', cells: [] },
      ]),
    );
    expect(parsed.sessions).toHaveLength(4);
    const rows = sessionRowsFor('nb1', [parsed]);
    expect(rows.map(describeSession)).toEqual(['spark · pyspark · starting', 'spark · sql 4 · idle']);
    expect(() => parseEngineSessions({ error: { code: 'not_found' } })).toThrow(/expected shape/);
  });

  it('polls each watched engine, follows phase changes, and stops when the engines or the owner go away', async () => {
    const phases = ['starting', 'idle', 'busy', 'dead'];
    let n = 0;
    const asked: string[] = [];
    const fetchSessions = vi.fn(async (engine: string) => {
      asked.push(engine);
      if (engine === 'cluster') throw new Error('Request failed (502)');
      if (engine === 'duckdb') return { engine, type: 'duckdb', sessions: [] };
      const phase = phases[Math.min(n++, phases.length - 1)];
      return listing(engine, [{ notebookId: 'nb1', kind: 'sql', sessionId: '0', phase, cells: [] }]);
    });
    const [engines, setEngines] = createSignal<string[]>(['duckdb', 'spark']);
    const seen: string[] = [];
    let dispose!: () => void;
    const poller = createRoot((d) => {
      dispose = d;
      const p = createSessionPoller({ notebookId: 'nb1', engines, fetchSessions, intervalMs: 5 });
      // Every phase the page would have rendered, in order.
      createEffect(() => {
        const phase = p.rows()[0]?.phase;
        if (phase && seen.at(-1) !== phase) seen.push(phase);
      });
      return p;
    });
    await waitFor(() => expect(seen).toEqual(['starting', 'idle', 'busy', 'dead']));
    // DuckDB answered once that it has no sessions, and was not asked again.
    expect(asked.filter((e) => e === 'duckdb')).toEqual(['duckdb']);

    setEngines(['cluster', 'spark']);
    await waitFor(() => expect(poller.errors()).toEqual({ cluster: 'Request failed (502)' }));

    setEngines([]);
    await waitFor(() => expect(poller.rows()).toEqual([]));
    const before = fetchSessions.mock.calls.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(fetchSessions.mock.calls.length).toBe(before);

    setEngines(['spark']);
    await waitFor(() => expect(fetchSessions.mock.calls.length).toBeGreaterThan(before));
    dispose();
    const after = fetchSessions.mock.calls.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(fetchSessions.mock.calls.length).toBeLessThanOrEqual(after + 1);
    expect(asked).toContain('cluster');
  });

  it('does not ask while the tab is hidden, and asks again as soon as it is shown', async () => {
    const fetchSessions = vi.fn(async (engine: string) => listing(engine, []));
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    let dispose!: () => void;
    createRoot((d) => {
      dispose = d;
      createSessionPoller({ notebookId: 'nb1', engines: () => ['spark'], fetchSessions, intervalMs: 5 });
    });
    await new Promise((r) => setTimeout(r, 40));
    expect(fetchSessions).not.toHaveBeenCalled();
    visibility.mockReturnValue('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => expect(fetchSessions).toHaveBeenCalledWith('spark', expect.anything()));
    dispose();
    visibility.mockRestore();
  });
});

describe('EngineBar', () => {
  afterEach(cleanup);

  const rows: SessionRow[] = [
    { engine: 'spark', notebookId: 'nb1', kind: 'sql', sessionId: '3', phase: 'busy', raw: 'busy', cells: ['c_a'] },
    {
      engine: 'spark',
      notebookId: 'nb1',
      kind: 'pyspark',
      sessionId: '2',
      phase: 'dead',
      raw: 'dead',
      cells: [],
      error: 'Livy session 2 is dead.',
    },
  ];

  it('picks the notebook engine and shows each session with its phase', () => {
    const onPick = vi.fn();
    render(() => (
      <EngineBar
        engines={ENGINES}
        defaultEngine="duckdb"
        readOnly={false}
        onPick={onPick}
        sessions={rows}
        errors={{ cluster: 'Request failed (502)' }}
      />
    ));
    const select = screen.getByLabelText('Notebook engine') as HTMLSelectElement;
    expect(select.value).toBe('duckdb');
    expect([...select.options].map((o) => o.textContent)).toEqual(ENGINES.map((e) => e.label));
    fireEvent.change(select, { target: { value: 'snow' } });
    expect(onPick).toHaveBeenCalledWith('snow');

    const list = screen.getByRole('list', { name: 'Engine sessions' });
    const items = [...list.querySelectorAll('li')];
    expect(items.map((li) => [li.textContent, li.getAttribute('data-phase')])).toEqual([
      ['spark · sql 3 · busy', 'busy'],
      ['spark · pyspark 2 · dead', 'dead'],
      ['cluster · sessions unavailable', 'unknown'],
    ]);
    expect(items[1].getAttribute('title')).toContain('Livy session 2 is dead.');
  });

  it('shows the notebook engine once the engine list arrives after the first render', () => {
    const [engines, setEngines] = createSignal<typeof ENGINES>([]);
    render(() => (
      <EngineBar
        engines={engines()}
        defaultEngine="spark"
        readOnly={false}
        onPick={() => {}}
        sessions={[]}
        errors={{}}
      />
    ));
    setEngines(ENGINES);
    expect((screen.getByLabelText('Notebook engine') as HTMLSelectElement).value).toBe('spark');
  });

  it('is read-only for viewers, keeps an unconfigured engine visible, and shows no list without sessions', () => {
    render(() => (
      <EngineBar engines={ENGINES} defaultEngine="old" readOnly onPick={() => {}} sessions={[]} errors={{}} />
    ));
    const select = screen.getByLabelText('Notebook engine') as HTMLSelectElement;
    expect(select.disabled).toBe(true);
    expect(select.value).toBe('old');
    expect(select.options[0].textContent).toBe('old (not configured)');
    expect(screen.queryByRole('list', { name: 'Engine sessions' })).toBeNull();
  });
});
