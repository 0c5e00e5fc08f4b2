// Engine-aware staleness: when a Spark session dies, the cells whose results lived in it are marked stale in the
// shared `runs` map (one transaction, kernel origin), with the reason, so every collaborator sees it and "run stale"
// recomputes exactly those cells.
import { type CellId, createOrigin, type RunSummary, readRun, setRuns, type TxOrigin } from '@pipebook/shared';
import type * as Y from 'yjs';
import type { SessionLostEvent } from './spark-types.ts';

const KERNEL_ORIGIN = createOrigin('kernel');

/**
 * Marks the event's cells stale when their current run summary is a finished run on the same engine (a cell that was
 * re-run elsewhere since, is running now, or failed keeps its summary). Returns the cells it marked.
 */
export function markSessionLossStale(doc: Y.Doc, event: SessionLostEvent, origin: TxOrigin = KERNEL_ORIGIN): CellId[] {
  const updates: Array<[CellId, RunSummary]> = [];
  for (const id of event.cellIds) {
    const run = readRun(doc, id);
    if (run?.status !== 'done' || run.engine !== event.engine) continue;
    if (run.finishedAt !== undefined && run.finishedAt > event.at) continue;
    updates.push([id, { ...run, status: 'stale', staleReason: event.reason }]);
  }
  if (updates.length) setRuns(doc, updates, origin);
  return updates.map(([id]) => id);
}
