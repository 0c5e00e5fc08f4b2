// What a cell's status line says, from the shared run summary and the cell's current input hash. Pure, so every
// screen derives the same thing from the same document.
import type { RunStatus, RunSummary } from '@pipebook/shared';

export interface CellStatusView {
  status: RunStatus | 'idle';
  /** The last result no longer matches the cell's current input (someone edited it or its upstream). */
  stale: boolean;
  /** Short text for the status line, e.g. "done · 1,204 rows · 0.8 s · duckdb · by Ana". */
  label: string;
  busy: boolean;
  durationMs?: number;
  /** 0..1 when the engine reports a fraction. */
  fraction?: number;
}

const nf = new Intl.NumberFormat('en-US');

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function describeRun(
  run: RunSummary | undefined,
  currentHash: string | undefined,
  now = Date.now(),
): CellStatusView {
  if (!run) return { status: 'idle', stale: false, label: 'not run yet', busy: false };
  const busy = run.status === 'queued' || run.status === 'running';
  const stale =
    run.status === 'stale' ||
    (!busy && run.status === 'done' && !!run.inputHash && !!currentHash && run.inputHash !== currentHash);
  const parts: string[] = [stale && run.status !== 'stale' ? 'stale' : run.status];
  let durationMs: number | undefined;
  if (run.startedAt !== undefined) {
    durationMs = (run.finishedAt ?? (busy ? now : run.startedAt)) - run.startedAt;
  }
  if (run.status === 'done' || (stale && run.rowCount !== undefined)) {
    if (run.rowCount !== undefined) parts.push(`${nf.format(run.rowCount)} ${run.rowCount === 1 ? 'row' : 'rows'}`);
  }
  if (run.status === 'running' && run.progress) {
    if (run.progress.fraction !== undefined) parts.push(`${Math.round(run.progress.fraction * 100)}%`);
    if (run.progress.message) parts.push(run.progress.message);
  }
  if (durationMs !== undefined && (run.finishedAt !== undefined || busy)) parts.push(formatDuration(durationMs));
  parts.push(run.engine);
  if (run.by?.name) parts.push(`by ${run.by.name}`);
  if (run.status === 'stale' && run.staleReason) parts.push(run.staleReason);
  if (run.status === 'blocked' && run.blockedBy) parts.push('an upstream cell failed');
  return {
    status: run.status,
    stale,
    label: parts.join(' · '),
    busy,
    durationMs,
    fraction: run.status === 'running' ? run.progress?.fraction : undefined,
  };
}
