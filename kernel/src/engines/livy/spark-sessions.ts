// Remote Spark sessions keyed by notebook and kind: created on first use, shared by concurrent runs while they boot,
// reused while alive, replaced when dead. Each session records which cells' results it holds as temp views, so its
// loss reports exactly those cells (engine-aware staleness). Transport-free: a SessionBackend does the HTTP.
import type { CellId } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import type { EngineProgress } from '../engine.ts';
import type { EngineSessionView, RemoteSessionState, SessionLostEvent, SessionPhase } from './spark-types.ts';
import { SessionLostError } from './spark-types.ts';

export interface SessionBackend {
  /** "Livy session" or "execution context", for messages. */
  readonly noun: string;
  create(notebookId: string, kind: string, signal?: AbortSignal): Promise<string>;
  /** Throws SessionLostError when the remote side no longer knows the session. */
  state(id: string, signal?: AbortSignal): Promise<RemoteSessionState>;
  destroy(id: string): Promise<void>;
  /** Extra words for a boot failure (e.g. Livy's last log lines). */
  failureDetail?(id: string): Promise<string>;
  /** Why a session found in an ended state is gone (default: `<Noun> <id> is <raw>.`). */
  endReason?(id: string, raw: string): string;
}

export interface Holding {
  view: string;
  inputHash?: string;
}

export interface SessionEntry {
  readonly notebookId: string;
  readonly kind: string;
  id?: string;
  phase: SessionPhase;
  raw: string;
  since: number;
  error?: string;
  /** Cell id -> the temp view that holds its result in this session. */
  holdings: Map<CellId, Holding>;
  booting?: Promise<SessionEntry>;
  /** Statements this process has in flight on the session (a Databricks context reports no busy state itself). */
  active: number;
}

export interface SessionPoolOptions {
  engine: string;
  backend: SessionBackend;
  pollMinMs?: number;
  pollMaxMs?: number;
  startTimeoutMs?: number;
}

/**
 * First poll interval. Polls are sequential (the next waits for the previous answer), so a short first interval
 * costs a handful of extra requests on long statements and saves most of the wait on short ones
 * (docs/performance/spark.md).
 */
export const DEFAULT_POLL_MIN_MS = 2;

/** Growing poll intervals: quick for short waits, gentle on long ones. */
export function nextDelay(prev: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.ceil(prev * 1.5)));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves after `ms`, or as soon as the signal fires (never rejects): polling must notice an abort at once. */
export function nap(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export function cancelled(): PipebookError {
  return new PipebookError('cancelled', 'The run was cancelled.');
}

/** Resolves with p, or rejects with a cancellation as soon as the signal fires (p keeps going for other waiters). */
export function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export class SparkSessionPool {
  private readonly entries = new Map<string, SessionEntry>();
  private readonly listeners = new Set<(e: SessionLostEvent) => void>();
  private readonly pollMin: number;
  private readonly pollMax: number;
  private readonly startTimeout: number;
  private closed = false;

  constructor(private readonly opts: SessionPoolOptions) {
    this.pollMin = opts.pollMinMs ?? DEFAULT_POLL_MIN_MS;
    this.pollMax = opts.pollMaxMs ?? 1000;
    this.startTimeout = opts.startTimeoutMs ?? 10 * 60_000;
  }

  onSessionLost(listener: (e: SessionLostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  entry(notebookId: string, kind: string): SessionEntry {
    const key = `${notebookId}\u0000${kind}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { notebookId, kind, phase: 'dead', raw: 'none', since: Date.now(), holdings: new Map(), active: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** A running session for the notebook and kind, booting one if needed. Cancelling stops the wait, not the boot. */
  async ensure(
    notebookId: string,
    kind: string,
    signal?: AbortSignal,
    onProgress?: (p: EngineProgress) => void,
  ): Promise<SessionEntry> {
    if (this.closed) throw new PipebookError('engine_unavailable', `The ${this.opts.engine} engine is closed.`);
    const e = this.entry(notebookId, kind);
    if (e.id !== undefined && e.phase !== 'dead' && e.phase !== 'starting' && !e.booting) return e;
    e.booting ??= this.boot(e, onProgress).finally(() => {
      e.booting = undefined;
    });
    return raceAbort(e.booting, signal);
  }

  private async boot(e: SessionEntry, onProgress?: (p: EngineProgress) => void): Promise<SessionEntry> {
    const { backend } = this.opts;
    if (e.id === undefined) {
      this.setPhase(e, 'starting', 'creating');
      e.error = undefined;
      try {
        e.id = await backend.create(e.notebookId, e.kind);
      } catch (err) {
        this.setPhase(e, 'dead', 'create failed');
        e.error = (err as Error).message;
        throw err;
      }
    }
    const id = e.id;
    const deadline = Date.now() + this.startTimeout;
    let delay = this.pollMin;
    for (;;) {
      let st: RemoteSessionState;
      try {
        st = await backend.state(id);
      } catch (err) {
        if (err instanceof SessionLostError) {
          this.lose(e, id, err.reason);
          throw new PipebookError('engine_unavailable', `The ${backend.noun} ${id} disappeared while starting.`);
        }
        throw err;
      }
      if (e.id !== id) throw new PipebookError('engine_unavailable', `The ${backend.noun} ${id} was replaced.`);
      this.setPhase(e, st.phase, st.raw);
      if (st.phase === 'idle' || st.phase === 'busy') return e;
      if (st.phase === 'dead') {
        const detail = await backend.failureDetail?.(id).catch(() => '');
        const msg = `The ${backend.noun} ${id} failed to start (state ${st.raw}).${detail ? ` ${detail}` : ''}`;
        e.id = undefined;
        e.error = msg;
        void backend.destroy(id).catch(() => {});
        throw new PipebookError('engine_unavailable', msg);
      }
      onProgress?.({ state: st.raw, message: `Starting ${backend.noun} ${id} (${st.raw})` });
      if (Date.now() > deadline) {
        throw new PipebookError('timeout', `The ${backend.noun} ${id} did not start within ${this.startTimeout} ms.`);
      }
      await sleep(delay);
      delay = nextDelay(delay, this.pollMin, this.pollMax);
    }
  }

  private setPhase(e: SessionEntry, phase: SessionPhase, raw: string) {
    if (e.phase !== phase || e.raw !== raw) e.since = Date.now();
    e.phase = phase;
    e.raw = raw;
  }

  /** Records that a statement went in or out, for the busy state of backends that do not report it. */
  track(e: SessionEntry, delta: 1 | -1) {
    e.active += delta;
    if (e.phase === 'idle' && e.active > 0) this.setPhase(e, 'busy', e.raw);
    else if (e.phase === 'busy' && e.active === 0) this.setPhase(e, 'idle', e.raw);
  }

  /**
   * The session `id` is gone: forget it, and tell listeners exactly which cells' results lived in it. A no-op if the
   * entry has already moved on to another session (two runs noticed the same death).
   */
  lose(e: SessionEntry, id: string, reason: string): void {
    if (e.id !== id) return;
    const cellIds = [...e.holdings.keys()];
    e.holdings = new Map();
    e.id = undefined;
    e.error = reason;
    this.setPhase(e, 'dead', 'lost');
    void this.opts.backend.destroy(id).catch(() => {});
    const event: SessionLostEvent = {
      engine: this.opts.engine,
      notebookId: e.notebookId,
      kind: e.kind,
      sessionId: id,
      cellIds,
      reason,
      at: Date.now(),
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure must not stop the others or the run that noticed the death.
      }
    }
  }

  /** Polls every live session once; dead or vanished ones are reported through lose(). */
  async check(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        const id = e.id;
        if (id === undefined || e.booting) return;
        try {
          const st = await this.opts.backend.state(id);
          if (e.id !== id) return;
          if (st.phase === 'dead') {
            const { backend } = this.opts;
            this.lose(e, id, backend.endReason?.(id, st.raw) ?? `${capitalize(backend.noun)} ${id} is ${st.raw}.`);
          } else if (e.active === 0 || st.phase === 'busy') this.setPhase(e, st.phase, st.raw);
        } catch (err) {
          if (err instanceof SessionLostError) this.lose(e, id, err.reason);
        }
      }),
    );
  }

  views(): EngineSessionView[] {
    return [...this.entries.values()]
      .filter((e) => e.id !== undefined || e.booting || e.error)
      .map((e) => ({
        notebookId: e.notebookId,
        kind: e.kind,
        ...(e.id !== undefined ? { sessionId: e.id } : {}),
        phase: e.phase,
        raw: e.raw,
        since: e.since,
        cells: [...e.holdings.keys()],
        ...(e.error ? { error: e.error } : {}),
      }));
  }

  /** Destroys a notebook's sessions (or every session) without reporting staleness: nobody is looking any more. */
  async release(notebookId?: string): Promise<void> {
    const jobs: Promise<void>[] = [];
    // A snapshot: a session a new run starts while this waits for a booting one is not released with the old ones.
    for (const [key, e] of [...this.entries]) {
      if (notebookId !== undefined && e.notebookId !== notebookId) continue;
      if (e.booting) await e.booting.catch(() => {});
      if (e.id !== undefined) jobs.push(this.opts.backend.destroy(e.id).catch(() => {}));
      if (this.entries.get(key) === e) this.entries.delete(key);
    }
    await Promise.all(jobs);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.release();
  }
}
