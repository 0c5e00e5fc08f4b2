// Spark session lifecycle for one notebook: which engines to watch, how to read the kernel's
// `GET /api/engines/:name/sessions` answer (docs/spark.md), and a poller that keeps the latest view per engine.
// Livy sessions and Databricks execution contexts only live on the remote side, so polling is the one way to see them
// start, go busy or die; the kernel's listing also asks the remote side, which is how a death reaches the runs map.
import { type Accessor, createEffect, createSignal, on, onCleanup } from 'solid-js';

export type SessionPhase = 'starting' | 'idle' | 'busy' | 'dead';
const PHASES: readonly string[] = ['starting', 'idle', 'busy', 'dead'];

/** Listing types that have sessions (the Spark engines); any other engine answers an empty list. */
export const SESSION_ENGINE_TYPES: readonly string[] = ['livy', 'databricks-cluster'];

export interface EngineSession {
  notebookId: string;
  kind: string;
  sessionId?: string;
  phase: SessionPhase;
  raw?: string;
  since?: number;
  cells: string[];
  error?: string;
}

export interface EngineSessions {
  engine: string;
  type: string;
  sessions: EngineSession[];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Validates the listing at the edge; a malformed session is dropped rather than shown wrong. */
export function parseEngineSessions(body: unknown): EngineSessions {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || typeof b.engine !== 'string' || !Array.isArray(b.sessions))
    throw new Error('The engine sessions answer is not in the expected shape.');
  const sessions: EngineSession[] = [];
  for (const raw of b.sessions as unknown[]) {
    const s = raw as Record<string, unknown> | null;
    if (!s || typeof s !== 'object') continue;
    const phase = str(s.phase);
    if (!phase || !PHASES.includes(phase) || typeof s.notebookId !== 'string' || typeof s.kind !== 'string') continue;
    sessions.push({
      notebookId: s.notebookId,
      kind: s.kind,
      sessionId: s.sessionId === undefined ? undefined : String(s.sessionId),
      phase: phase as SessionPhase,
      raw: str(s.raw),
      since: typeof s.since === 'number' ? s.since : undefined,
      cells: Array.isArray(s.cells) ? s.cells.filter((c): c is string => typeof c === 'string') : [],
      error: str(s.error),
    });
  }
  return { engine: b.engine, type: str(b.type) ?? '', sessions };
}

/**
 * The engines a notebook runs on (its default and every cell's override) that the kernel lists, in a stable order so
 * the poller does not restart when the same set is recomputed. Which of them have sessions is learnt from the
 * listing's own `type`, so an engine kind added later needs no change here.
 */
export function sessionEnginesOf(
  engines: ReadonlyArray<{ name: string }>,
  defaultEngine: string,
  cellEngines: ReadonlyArray<string | undefined>,
): string[] {
  const used = new Set([defaultEngine, ...cellEngines.filter((e): e is string => !!e)]);
  return engines
    .filter((e) => used.has(e.name))
    .map((e) => e.name)
    .sort();
}

/** One row per session of this notebook (the ad-hoc session, notebookId "", belongs to nobody's page). */
export interface SessionRow extends EngineSession {
  engine: string;
}

export function sessionRowsFor(notebookId: string, listings: ReadonlyArray<EngineSessions>): SessionRow[] {
  const rows: SessionRow[] = [];
  for (const l of listings)
    for (const s of l.sessions) if (s.notebookId === notebookId) rows.push({ ...s, engine: l.engine });
  return rows.sort((a, b) => (a.engine === b.engine ? a.kind.localeCompare(b.kind) : a.engine.localeCompare(b.engine)));
}

export function describeSession(row: SessionRow): string {
  // Livy ids are small integers; Databricks context ids are long numbers, shortened here (the full id is in the DOM).
  const sid = row.sessionId ?? '';
  const id = sid === '' ? '' : ` ${sid.length > 8 ? `…${sid.slice(-6)}` : sid}`;
  return `${row.engine} · ${row.kind}${id} · ${row.phase}`;
}

export interface SessionPollerOptions {
  notebookId: string;
  engines: Accessor<string[]>;
  fetchSessions(engine: string, signal: AbortSignal): Promise<unknown>;
  /** Between the end of one round and the start of the next. */
  intervalMs?: number;
}

export interface SessionPoller {
  rows: Accessor<SessionRow[]>;
  /** The last failure per engine (the kernel or the remote side did not answer). */
  errors: Accessor<Record<string, string>>;
  /** Polls at once instead of waiting for the next round (e.g. right after a run starts). */
  refresh(): void;
}

/** Must be called inside a reactive owner: polling stops when the owner is disposed. */
export function createSessionPoller(opts: SessionPollerOptions): SessionPoller {
  const interval = opts.intervalMs ?? 1500;
  const [listings, setListings] = createSignal<EngineSessions[]>([]);
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  let wake: (() => void) | undefined;
  let generation = 0;

  /** Waits for the interval, a refresh, the tab becoming visible, or the end. */
  const nextRound = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, interval);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisible);
        wake = undefined;
        resolve();
      }
      function onVisible() {
        if (document.visibilityState === 'visible') done();
      }
      wake = done;
      signal.addEventListener('abort', done);
      if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisible);
    });

  const loop = async (names: string[], gen: number, signal: AbortSignal) => {
    while (!signal.aborted && gen === generation && names.length > 0) {
      // Each listing makes the kernel ask the remote side about every session: a hidden tab does not ask.
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
        await nextRound(signal);
        continue;
      }
      const results = await Promise.all(
        names.map(async (name) => {
          try {
            return { name, ok: parseEngineSessions(await opts.fetchSessions(name, signal)) };
          } catch (e) {
            return { name, err: (e as Error).message };
          }
        }),
      );
      if (signal.aborted || gen !== generation) return;
      // An engine without sessions (DuckDB, a SQL warehouse) answers an empty list of its own type: stop asking it.
      names = names.filter((n) => {
        const ok = results.find((r) => r.name === n)?.ok;
        return !ok || SESSION_ENGINE_TYPES.includes(ok.type);
      });
      setListings(results.flatMap((r) => (r.ok && SESSION_ENGINE_TYPES.includes(r.ok.type) ? [r.ok] : [])));
      setErrors(Object.fromEntries(results.flatMap((r) => (r.err ? [[r.name, r.err]] : []))));
      await nextRound(signal);
    }
  };

  let ctl: AbortController | undefined;
  createEffect(
    on(
      () => opts.engines().join('\n'),
      (key) => {
        ctl?.abort();
        generation += 1;
        const names = key ? key.split('\n') : [];
        if (names.length === 0) {
          setListings([]);
          setErrors({});
          return;
        }
        ctl = new AbortController();
        void loop(names, generation, ctl.signal);
      },
    ),
  );
  onCleanup(() => {
    generation += 1;
    ctl?.abort();
  });

  return {
    rows: () => sessionRowsFor(opts.notebookId, listings()),
    errors,
    refresh: () => wake?.(),
  };
}
