// The notebook's engine in the toolbar: which connection the notebook runs on (cells may still override it in their
// own selector), and the live state of the Spark sessions behind it (Livy sessions, Databricks contexts).
import { setDefaultEngine } from '@pipebook/shared';
import { type Accessor, createEffect, createMemo, For, on, Show } from 'solid-js';
import { request } from '../net/http.ts';
import type { NotebookSession } from '../state/session.ts';
import { createSessionPoller, describeSession, type SessionRow, sessionEnginesOf } from './sessions.ts';

// Inline so the component carries its own look without touching the page's stylesheet.
const BAR_STYLE = { display: 'flex', 'align-items': 'center', gap: '0.5rem', 'flex-wrap': 'wrap' } as const;
const LIST_STYLE = {
  display: 'flex',
  'flex-wrap': 'wrap',
  gap: '0.25rem',
  'list-style': 'none',
  margin: '0',
  padding: '0',
  'font-size': '0.8rem',
} as const;
const PHASE_COLOURS: Record<string, string> = {
  starting: '#a16207',
  idle: '#15803d',
  busy: '#1d4ed8',
  dead: '#b91c1c',
  unknown: '#6b7280',
};
function badgeStyle(phase: string) {
  const c = PHASE_COLOURS[phase] ?? PHASE_COLOURS.unknown;
  return { color: c, border: `1px solid ${c}`, 'border-radius': '999px', padding: '0 0.5rem', 'white-space': 'nowrap' };
}

export interface EngineChoice {
  name: string;
  label: string;
}

/** What the toolbar shows; kept free of the session so it renders in isolation. */
export function EngineBar(props: {
  engines: EngineChoice[];
  defaultEngine: string;
  readOnly: boolean;
  onPick(engine: string): void;
  sessions: SessionRow[];
  errors: Record<string, string>;
}) {
  const known = () => props.engines.some((e) => e.name === props.defaultEngine);
  return (
    <fieldset class="toolbar-group notebook-engines" style={BAR_STYLE}>
      <legend class="visually-hidden">Engine</legend>
      <label>
        <span class="visually-hidden">Notebook engine</span>
        <select
          style={{ 'max-width': '16rem' }}
          value={props.defaultEngine}
          disabled={props.readOnly}
          title="The engine every cell runs on unless the cell picks its own"
          onChange={(e) => props.onPick(e.currentTarget.value)}
        >
          {/* An engine the kernel does not list (removed from the config) stays visible instead of silently changing. */}
          <Show when={!known()}>
            <option value={props.defaultEngine} selected>
              {props.defaultEngine} (not configured)
            </option>
          </Show>
          {/* `selected` per option: the engine list arrives after the select is first rendered. */}
          <For each={props.engines}>
            {(en) => (
              <option value={en.name} selected={en.name === props.defaultEngine}>
                {en.label}
              </option>
            )}
          </For>
        </select>
      </label>
      <Show when={props.sessions.length > 0 || Object.keys(props.errors).length > 0}>
        <ul class="engine-sessions" aria-label="Engine sessions" style={LIST_STYLE}>
          <For each={props.sessions}>
            {(row) => (
              <li
                class={`badge session-${row.phase}`}
                style={badgeStyle(row.phase)}
                data-engine={row.engine}
                data-session-id={row.sessionId}
                data-kind={row.kind}
                data-phase={row.phase}
                title={[
                  row.raw ? `${row.raw}` : '',
                  row.since ? `since ${new Date(row.since).toLocaleTimeString()}` : '',
                  row.cells.length ? `holds ${row.cells.length} cell result${row.cells.length === 1 ? '' : 's'}` : '',
                  row.error ?? '',
                ]
                  .filter(Boolean)
                  .join(' · ')}
              >
                {describeSession(row)}
              </li>
            )}
          </For>
          <For each={Object.entries(props.errors)}>
            {([engine, message]) => (
              <li
                class="badge session-unknown"
                style={badgeStyle('unknown')}
                data-engine={engine}
                data-phase="unknown"
                title={message}
              >
                {engine} · sessions unavailable
              </li>
            )}
          </For>
        </ul>
      </Show>
    </fieldset>
  );
}

/** Kernel call through the same-origin proxy, with the caller's auth header. */
export function fetchEngineSessions(engine: string, signal: AbortSignal): Promise<unknown> {
  return request(`/api/engines/${encodeURIComponent(engine)}/sessions`, { signal });
}

export function NotebookEngines(props: {
  session: NotebookSession;
  fetchSessions?: (engine: string, signal: AbortSignal) => Promise<unknown>;
}) {
  const s = props.session;
  const watched: Accessor<string[]> = createMemo(
    () =>
      sessionEnginesOf(
        s.runtime.engines(),
        s.store.meta().defaultEngine,
        s.store.order().map((id) => s.store.cells[id]?.engine),
      ),
    undefined,
    { equals: (a, b) => a.join('\n') === b.join('\n') },
  );
  const poller = createSessionPoller({
    notebookId: s.id,
    engines: watched,
    fetchSessions: props.fetchSessions ?? fetchEngineSessions,
  });
  // A run that starts or ends changes session states: look at once instead of waiting for the next round.
  createEffect(
    on(
      () =>
        Object.values(s.store.runs)
          .filter((r) => r.status === 'running' || r.status === 'queued')
          .length.toString(),
      () => poller.refresh(),
      { defer: true },
    ),
  );
  return (
    <EngineBar
      engines={s.runtime.engines()}
      defaultEngine={s.store.meta().defaultEngine}
      readOnly={s.readOnly()}
      onPick={(engine) => setDefaultEngine(s.store.doc, engine, s.store.origin)}
      sessions={poller.rows()}
      errors={poller.errors()}
    />
  );
}
