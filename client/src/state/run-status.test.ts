import type { RunSummary } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { describeRun, formatDuration } from './run-status.ts';

const base: RunSummary = { status: 'done', runId: 'r', engine: 'duckdb', by: { id: 'a', name: 'Ana' } };

describe('describeRun', () => {
  it('says a cell never ran', () => {
    expect(describeRun(undefined, 'h')).toMatchObject({ status: 'idle', stale: false, busy: false });
  });
  it('reports rows, duration, engine and who ran it', () => {
    const v = describeRun(
      { ...base, rowCount: 1204, startedAt: 1000, finishedAt: 1800, inputHash: 'duckdb:1' },
      'duckdb:1',
    );
    expect(v.label).toBe('done · 1,204 rows · 800 ms · duckdb · by Ana');
    expect(v.stale).toBe(false);
  });
  it('marks a done result stale when the current input hash differs', () => {
    const v = describeRun({ ...base, rowCount: 1, inputHash: 'duckdb:1' }, 'duckdb:2');
    expect(v.stale).toBe(true);
    expect(v.label.startsWith('stale · 1 row')).toBe(true);
  });
  it('does not guess staleness when the current hash is unknown', () => {
    expect(describeRun({ ...base, inputHash: 'duckdb:1' }, undefined).stale).toBe(false);
  });
  it('shows progress while running, with elapsed time', () => {
    const v = describeRun(
      { ...base, status: 'running', startedAt: 0, progress: { fraction: 0.25, message: 'paging' } },
      undefined,
      2500,
    );
    expect(v).toMatchObject({ busy: true, fraction: 0.25 });
    expect(v.label).toBe('running · 25% · paging · 2.5 s · duckdb · by Ana');
  });
  it('explains stale and blocked runs', () => {
    expect(describeRun({ ...base, status: 'stale', staleReason: 'session ended' }, undefined).label).toContain(
      'session ended',
    );
    expect(describeRun({ ...base, status: 'blocked', blockedBy: 'c_x' as never }, undefined).label).toContain(
      'upstream cell failed',
    );
  });
  it('formats durations', () => {
    expect(formatDuration(12)).toBe('12 ms');
    expect(formatDuration(61_000)).toBe('1 min 1 s');
  });
});
