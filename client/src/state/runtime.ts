// Kernel runtime state for one open notebook: engines and their catalogs, starting and cancelling runs, live
// progress of runs started here (the shared `runs` map carries everyone's statuses; the event stream adds row
// counts while a remote engine pages a result in), and the last error to show.

import type { Dialect } from '@pipebook/shared/compile/dialect';
import type { RunEvent, RunScope } from '@pipebook/shared/protocol/kernel';
import { type Accessor, createSignal } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { CatalogTableInfo } from '../editor/completion.ts';
import { kernelApi } from '../net/api.ts';

type EngineEntry = { name: string; type: string; dialect: Dialect; label: string };

export interface LiveProgress {
  rows?: number;
  fraction?: number;
  message?: string;
}

export interface KernelApiLike {
  engines(): Promise<EngineEntry[]>;
  catalog(
    engine: string,
  ): Promise<{ tables: Array<{ schema: string; name: string; columns: { name: string; type: string }[] }> }>;
  run(notebookId: string, scope: RunScope, cellId?: string): Promise<{ runId: string }>;
  cancel(runId: string): Promise<unknown>;
  events(runId: string, onEvent: (e: RunEvent) => void, signal: AbortSignal): Promise<void>;
}

export interface RuntimeStore {
  engines: Accessor<EngineEntry[]>;
  dialectOf(engine: string): Dialect;
  catalog: Accessor<CatalogTableInfo[]>;
  progress: Record<string, LiveProgress>;
  notice: Accessor<string | undefined>;
  clearNotice(): void;
  run(scope: RunScope, cellId?: string): Promise<void>;
  cancel(runId: string): Promise<void>;
  loadCatalog(engine: string): void;
  dispose(): void;
}

export function applyRunEvent(progress: Record<string, LiveProgress>, e: RunEvent): Record<string, LiveProgress> {
  switch (e.type) {
    case 'cell_started':
      return { ...progress, [e.cellId]: {} };
    case 'cell_progress':
      return { ...progress, [e.cellId]: { rows: e.rows, fraction: e.fraction, message: e.message } };
    case 'cell_finished': {
      const { [e.cellId]: _gone, ...rest } = progress;
      return rest;
    }
    case 'run_queued':
    case 'cell_queued':
    case 'run_finished':
      return progress;
  }
}

export function createRuntime(notebookId: string, api: KernelApiLike = kernelApi): RuntimeStore {
  const [engines, setEngines] = createSignal<EngineEntry[]>([]);
  const [catalog, setCatalog] = createSignal<CatalogTableInfo[]>([]);
  const [progress, setProgress] = createStore<Record<string, LiveProgress>>({});
  const [notice, setNotice] = createSignal<string | undefined>();
  const ctl = new AbortController();
  const catalogLoaded = new Set<string>();

  api
    .engines()
    .then(setEngines)
    .catch((e: Error) => setNotice(`Engines unavailable: ${e.message}`));

  return {
    engines,
    dialectOf: (engine) => engines().find((e) => e.name === engine)?.dialect ?? 'duckdb',
    catalog,
    progress,
    notice,
    clearNotice: () => setNotice(undefined),
    loadCatalog(engine) {
      if (catalogLoaded.has(engine)) return;
      catalogLoaded.add(engine);
      api
        .catalog(engine)
        .then((c) =>
          setCatalog((prev) => [
            ...prev,
            ...c.tables.map((t) => ({ schema: t.schema, name: t.name, columns: t.columns })),
          ]),
        )
        .catch(() => catalogLoaded.delete(engine));
    },
    async run(scope, cellId) {
      try {
        const created = await api.run(notebookId, scope, cellId);
        api
          .events(
            created.runId,
            (e) => {
              if (e.type === 'cell_started' || e.type === 'cell_progress' || e.type === 'cell_finished') {
                const next = applyRunEvent({ ...progress }, e);
                setProgress((cur) => {
                  const out: Record<string, LiveProgress | undefined> = { ...next };
                  for (const k of Object.keys(cur)) if (!(k in next)) out[k] = undefined;
                  return out as Record<string, LiveProgress>;
                });
              }
            },
            ctl.signal,
          )
          .catch(() => {
            // The shared runs map still carries every status; losing the stream only loses row counts in flight.
          });
      } catch (e) {
        setNotice((e as Error).message);
      }
    },
    async cancel(runId) {
      try {
        await api.cancel(runId);
      } catch (e) {
        setNotice((e as Error).message);
      }
    },
    dispose() {
      ctl.abort();
    },
  };
}
