// One Livy statement from submission to output: retries while the session is not ready (500 text), polls with growing
// intervals, reports Livy's progress, cancels on abort (waiting or running) and keeps polling until Livy agrees, and
// turns `output.status: "error"` into a SparkCodeError. A session that stops running underneath becomes a
// SessionLostError for the chain runner.
import { PipebookError } from '@pipebook/shared';
import type { EngineProgress } from '../engine.ts';
import {
  LIVY_ENDED_STATES,
  type LivyClient,
  LivyNotFoundError,
  LivyNotRunningError,
  type LivyOutput,
  type LivyStatement,
  livyEndReason,
} from './livy-client.ts';
import { dropWrapperFrames } from './spark-code.ts';
import { cancelled, nap, nextDelay, sleep } from './spark-sessions.ts';
import { SessionLostError, SparkCodeError } from './spark-types.ts';

export interface StatementOptions {
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  pollMinMs: number;
  pollMaxMs: number;
  /** How long to keep retrying a session that answers "not ready" (starting, recovering). */
  notReadyBudgetMs: number;
  /** After a cancel, how long to wait for Livy to confirm before giving up on it. */
  cancelGraceMs?: number;
  /** Where a user-code error points (cell id, and a line from the traceback). */
  where?: (o: Extract<LivyOutput, { status: 'error' }>) => { cellId?: string; line?: number; column?: number };
}

const TERMINAL = new Set(['available', 'error', 'cancelled']);

function lost(sessionId: number, e: unknown): never {
  if (e instanceof LivyNotRunningError && LIVY_ENDED_STATES.has(e.state)) {
    throw new SessionLostError(livyEndReason(sessionId, e.state));
  }
  if (e instanceof LivyNotFoundError && e.what === 'session') {
    throw new SessionLostError(`Livy session ${sessionId} no longer exists (expired or deleted).`);
  }
  if (e instanceof LivyNotFoundError || e instanceof LivyNotRunningError) {
    throw new PipebookError('engine_unavailable', e.message);
  }
  throw e;
}

async function submit(client: LivyClient, sessionId: number, code: string, kind: string, o: StatementOptions) {
  const deadline = Date.now() + o.notReadyBudgetMs;
  let delay = o.pollMinMs;
  for (;;) {
    if (o.signal.aborted) throw cancelled();
    try {
      return await client.submitStatement(sessionId, code, kind);
    } catch (e) {
      if (!(e instanceof LivyNotRunningError) || LIVY_ENDED_STATES.has(e.state)) lost(sessionId, e);
      if (Date.now() > deadline) {
        throw new PipebookError('engine_unavailable', `Livy session ${sessionId} stayed ${e.state}; try again later.`);
      }
      o.onProgress?.({ state: e.state, message: `Waiting for Livy session ${sessionId} (${e.state})` });
      await sleep(delay, o.signal);
      delay = nextDelay(delay, o.pollMinMs, o.pollMaxMs);
    }
  }
}

export async function runLivyStatement(
  client: LivyClient,
  sessionId: number,
  code: string,
  kind: 'sql' | 'pyspark',
  o: StatementOptions,
): Promise<Extract<LivyOutput, { status: 'ok' }>> {
  let st: LivyStatement = await submit(client, sessionId, code, kind, o);
  let delay = o.pollMinMs;
  let cancelAt: number | undefined;
  let lastReported = '';
  for (;;) {
    if (o.signal.aborted && cancelAt === undefined) {
      cancelAt = Date.now();
      try {
        await client.cancelStatement(sessionId, st.id);
      } catch (e) {
        lost(sessionId, e);
      }
    }
    if (TERMINAL.has(st.state)) break;
    if (cancelAt !== undefined && Date.now() - cancelAt > (o.cancelGraceMs ?? 30_000)) throw cancelled();
    const report = `${st.state}:${st.progress ?? ''}`;
    if (report !== lastReported && cancelAt === undefined) {
      lastReported = report;
      o.onProgress?.({ state: st.state, ...(typeof st.progress === 'number' ? { fraction: st.progress } : {}) });
    }
    await nap(delay, o.signal);
    delay = nextDelay(delay, o.pollMinMs, o.pollMaxMs);
    try {
      st = await client.getStatement(sessionId, st.id);
    } catch (e) {
      lost(sessionId, e);
    }
  }
  if (cancelAt !== undefined || st.state === 'cancelled') throw cancelled();
  const out = st.output;
  if (!out) throw new PipebookError('engine_unavailable', `Livy statement ${st.id} finished without output.`);
  if (out.status === 'error') {
    const traceback = kind === 'pyspark' ? dropWrapperFrames(out.traceback ?? []) : (out.traceback ?? []);
    throw new SparkCodeError({ ename: out.ename, evalue: out.evalue, traceback }, o.where?.(out) ?? {});
  }
  if (typeof st.progress === 'number' && lastReported !== 'available:1')
    o.onProgress?.({ state: st.state, fraction: 1 });
  return out;
}
