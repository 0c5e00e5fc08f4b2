import { addCell, initNotebook, type RunSummary, readRuns, setRuns } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { SessionLostEvent } from './spark-types.ts';
import { markSessionLossStale } from './staleness.ts';

const by = { id: 'local', name: 'Local user' };

describe('markSessionLossStale', () => {
  it('[S9] marks only finished runs of the same engine that finished before the loss, in one transaction', () => {
    const doc = new Y.Doc();
    initNotebook(doc);
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) =>
      addCell(doc, { kind: 'sql', name, source: 'SELECT 1' }),
    );
    const at = 1_000_000;
    const run = (x: Partial<RunSummary>): RunSummary => ({
      status: 'done',
      runId: 'r',
      engine: 'spark',
      by,
      finishedAt: at - 5,
      ...x,
    });
    setRuns(doc, [
      [a, run({})],
      [b, run({ status: 'running' })],
      [c, run({ engine: 'duckdb' })],
      [d, run({ finishedAt: at + 5 })],
    ]);
    let transactions = 0;
    doc.on('afterTransaction', () => transactions++);
    const event: SessionLostEvent = {
      engine: 'spark',
      notebookId: 'nb',
      kind: 'sql',
      sessionId: '3',
      cellIds: [a, b, c, d, e],
      reason: 'Livy session 3 is dead.',
      at,
    };
    expect(markSessionLossStale(doc, event)).toEqual([a]);
    expect(transactions).toBe(1);
    const runs = readRuns(doc);
    expect(runs[a]).toMatchObject({ status: 'stale', staleReason: 'Livy session 3 is dead.', runId: 'r' });
    expect(runs[b].status).toBe('running');
    expect(runs[c].status).toBe('done');
    expect(runs[d].status).toBe('done');
    expect(runs[e]).toBeUndefined();
  });
});
