import { type CellId, type CellSnapshot, PipebookError, type RunSummary } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { type PlanInput, planRun } from './planner.ts';
import { sharedCompiler } from './shared-compiler.ts';

const cell = (name: string, source: string, extra: Partial<CellSnapshot> = {}): CellSnapshot => ({
  id: `c_${name}` as CellId,
  name,
  kind: 'sql',
  source,
  config: {},
  ...extra,
});

// a -> b -> c, a -> d; e independent; m markdown.
const cells = [
  cell('a', 'SELECT 1 AS x'),
  cell('b', 'SELECT x FROM a'),
  cell('c', 'SELECT x FROM b'),
  cell('d', 'SELECT x FROM a'),
  cell('e', 'SELECT 2 AS y'),
  cell('m', '# notes', { kind: 'markdown' }),
];

function input(over: Partial<PlanInput> = {}): PlanInput {
  const list = over.cells ?? cells;
  return {
    cells: list,
    graph: sharedCompiler.graph(list, 'duckdb'),
    hashes: sharedCompiler.inputHashes(list, 'duckdb'),
    scope: 'all',
    force: false,
    defaultEngine: 'duckdb',
    knownEngine: (n) => n === 'duckdb',
    lastRuns: {},
    hasResult: () => true,
    ...over,
  };
}

const ids = (steps: ReturnType<typeof planRun>) => steps.map((s) => s.cellId);

describe('planRun', () => {
  it('[R2] selects the scope in dependency order and leaves Markdown out', () => {
    expect(ids(planRun(input({ scope: 'cell', cellId: 'c_c' as CellId })))).toEqual(['c_c']);
    expect(ids(planRun(input({ scope: 'upstream', cellId: 'c_c' as CellId })))).toEqual(['c_a', 'c_b', 'c_c']);
    expect(ids(planRun(input({ scope: 'downstream', cellId: 'c_a' as CellId }))).sort()).toEqual([
      'c_a',
      'c_b',
      'c_c',
      'c_d',
    ]);
    const all = ids(planRun(input()));
    expect(all.sort()).toEqual(['c_a', 'c_b', 'c_c', 'c_d', 'c_e']);
    expect(() => planRun(input({ scope: 'cell', cellId: 'c_m' as CellId }))).toThrow(PipebookError);
    expect(() => planRun(input({ scope: 'cell', cellId: 'c_zz' as CellId }))).toThrow(/does not exist/);
  });

  it('[R8] each step waits for the running cells it reads, directly or not', () => {
    const steps = planRun(input());
    const deps = Object.fromEntries(steps.map((s) => [s.cellId, [...s.deps].sort()]));
    expect(deps).toEqual({ c_a: [], c_b: ['c_a'], c_c: ['c_a', 'c_b'], c_d: ['c_a'], c_e: [] });
  });

  it('[R5] reuses cells whose hash matches their last done run and whose result exists; force recomputes', () => {
    const hashes = sharedCompiler.inputHashes(cells, 'duckdb');
    const done = (id: string): RunSummary => ({
      status: 'done',
      runId: 'r1',
      engine: 'duckdb',
      by: { id: 'u', name: 'U' },
      inputHash: hashes.get(id as CellId),
    });
    const lastRuns = { c_a: done('c_a'), c_b: done('c_b'), c_c: { ...done('c_c'), status: 'error' as const } };
    const plan = planRun(input({ lastRuns, hasResult: (id) => id !== 'c_b' }));
    const actions = Object.fromEntries(plan.map((s) => [s.cellId, s.action]));
    expect(actions).toEqual({ c_a: 'reuse', c_b: 'run', c_c: 'run', c_d: 'run', c_e: 'run' });
    // A reused cell is not waited for.
    expect(plan.find((s) => s.cellId === 'c_c')?.deps).toEqual(['c_b']);
    const forced = planRun(input({ lastRuns, force: true }));
    expect(forced.every((s) => s.action === 'run')).toBe(true);
    const stale = { ...lastRuns, c_a: { ...done('c_a'), inputHash: 'old' } };
    expect(planRun(input({ lastRuns: stale })).find((s) => s.cellId === 'c_a')?.action).toBe('run');
  });

  it('[R3] refuses a cycle or a broken input anywhere the run reads, but not elsewhere', () => {
    const broken = [
      ...cells,
      cell('x', 'SELECT * FROM y'),
      cell('y', 'SELECT * FROM x'),
      cell('t', '', { kind: 'target', config: { input: 'c_missing', type: 'table', table: 't', mode: 'replace' } }),
    ];
    const err = (() => {
      try {
        planRun(input({ cells: broken }));
      } catch (e) {
        return e as PipebookError;
      }
    })();
    expect(err?.code).toBe('cycle');
    expect(['c_x', 'c_y']).toContain(err?.cellId);
    expect(() => planRun(input({ cells: broken, scope: 'cell', cellId: 'c_t' as CellId }))).toThrow(
      expect.objectContaining({ code: 'unknown_reference', cellId: 'c_t' }),
    );
    expect(ids(planRun(input({ cells: broken, scope: 'upstream', cellId: 'c_c' as CellId })))).toEqual([
      'c_a',
      'c_b',
      'c_c',
    ]);
  });

  it('[R4] refuses an engine the kernel does not have', () => {
    const list = [cell('a', 'SELECT 1 AS x', { engine: 'warehouse' })];
    expect(() => planRun(input({ cells: list }))).toThrow(expect.objectContaining({ code: 'engine_unavailable' }));
  });

  it('[R13] runs the extra cell check on everything the run reads', () => {
    const seen: string[] = [];
    planRun(input({ scope: 'cell', cellId: 'c_c' as CellId, checkCell: (c) => seen.push(c.id) }));
    expect(seen.sort()).toEqual(['c_a', 'c_b', 'c_c']);
  });
});
