// One cell's live preview: compiles the cell and its upstream for DuckDB over source samples, loads the samples it
// needs into the browser's DuckDB, runs the statement there, and runs it again (debounced) whenever an edit changes
// the statement or a source. Nothing here ever asks the kernel to run anything.
import { type CellId, type CellSnapshot, PipebookError, readCells, readMeta } from '@pipebook/shared';
import { type Accessor, createSignal } from 'solid-js';
import type * as Y from 'yjs';
import { previewEngine } from './engine.ts';
import { explainPreviewError, type PreviewProblem, planPreview, sampleTable } from './plan.ts';
import { loadSample, type SampleSettings, sampleKey, sampleSettings } from './samples.ts';

export interface SampleInfo {
  cellId: CellId;
  name: string;
  rowCount: number;
  truncated: boolean;
  mode: string;
  from: 'cache' | 'network' | 'engine';
}

export type PreviewState =
  | { kind: 'idle' }
  | { kind: 'loading'; what: string }
  | {
      kind: 'ready';
      columns: { name: string; type: string }[];
      rows: unknown[][];
      rowCount: number;
      ms: number;
      samples: SampleInfo[];
      sql: string;
      /** Increments with every rendered result (tests and the benchmark wait on it). */
      gen: number;
    }
  | { kind: 'problem'; problem: PreviewProblem; sql?: string };

export interface PreviewOptions {
  notebookId: string;
  cellId: CellId;
  doc: Y.Doc;
  /** Dialect of an engine name (for messages about dialect-only constructs). */
  dialectOf(engine: string): import('@pipebook/shared').Dialect;
  debounceMs?: number;
  rows?: number;
  settings?: SampleSettings;
}

export interface CellPreview {
  state: Accessor<PreviewState>;
  /** Recomputes now (and after every later edit until stopped). */
  start(): void;
  stop(): void;
  /** Fetches the samples this cell reads anew from the kernel. */
  refreshSamples(): void;
  /** Recomputes now if active (e.g. after the sampling settings changed). */
  recompute(): void;
  active: Accessor<boolean>;
}

function debounceFromStorage(): number | undefined {
  try {
    const v = Number(window.localStorage.getItem('pipebook.preview.debounceMs') ?? '');
    return Number.isFinite(v) && v >= 0 && window.localStorage.getItem('pipebook.preview.debounceMs') !== null
      ? v
      : undefined;
  } catch {
    return undefined;
  }
}

export function createCellPreview(opts: PreviewOptions): CellPreview {
  const [state, setState] = createSignal<PreviewState>({ kind: 'idle' });
  const [active, setActive] = createSignal(false);
  const debounceMs = opts.debounceMs ?? debounceFromStorage() ?? 40;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastSignature: string | undefined;
  let generation = 0;
  let rendered = 0;
  let refresh = false;

  const engineOf = (cell: CellSnapshot, defaultEngine: string) => cell.engine ?? defaultEngine;

  const compute = async () => {
    const my = ++generation;
    // Read on every run: the sampling choice is this browser's, and may change between runs.
    const settings = opts.settings ?? sampleSettings();
    const cells = readCells(opts.doc);
    const defaultEngine = readMeta(opts.doc).defaultEngine;
    const cell = cells.find((c) => c.id === opts.cellId);
    if (!cell) return;
    const engine = engineOf(cell, defaultEngine);
    const dialect = opts.dialectOf(engine);
    let plan: ReturnType<typeof planPreview>;
    try {
      plan = planPreview(cells, opts.cellId);
    } catch (e) {
      lastSignature = undefined;
      const message = e instanceof PipebookError || e instanceof Error ? e.message : String(e);
      setState({ kind: 'problem', problem: { message: `Cannot preview: ${message}` } });
      return;
    }
    const byId = new Map(cells.map((c) => [c.id, c]));
    const keys = plan.sources.map((id) => {
      const src = byId.get(id)!;
      return sampleKey(src, engineOf(src, defaultEngine), settings);
    });
    const signature = JSON.stringify([plan.sql, keys]);
    if (signature === lastSignature && !refresh) return;
    lastSignature = signature;
    const forceFetch = refresh;
    refresh = false;
    try {
      if (state().kind !== 'ready') setState({ kind: 'loading', what: 'Starting the preview engine…' });
      const db = await previewEngine();
      if (my !== generation) return;
      const samples: SampleInfo[] = [];
      for (let i = 0; i < plan.sources.length; i++) {
        const id = plan.sources[i];
        const src = byId.get(id)!;
        const table = sampleTable(id);
        if (db.hasTable(table, keys[i]) && !forceFetch) {
          const info = loadedInfo.get(table);
          if (info) samples.push({ ...info, from: 'engine' });
          continue;
        }
        if (state().kind !== 'ready') setState({ kind: 'loading', what: `Loading a sample of ${src.name}…` });
        const l0 = performance.now();
        const s = await loadSample(opts.notebookId, id, keys[i], settings, { refresh: forceFetch });
        const l1 = performance.now();
        await db.loadTable(table, s.arrow, s.columns);
        performance.measure(`pipebook-preview-sample-fetch:${src.name}`, { start: l0, end: l1 });
        performance.measure(`pipebook-preview-sample-load:${src.name}`, { start: l1, end: performance.now() });
        db.markTable(table, keys[i]);
        const info: SampleInfo = {
          cellId: id,
          name: src.name,
          rowCount: s.rowCount,
          truncated: s.truncated,
          mode: s.mode,
          from: s.from,
        };
        loadedInfo.set(table, info);
        samples.push(info);
      }
      if (my !== generation) return;
      const r = await db.query(plan.sql, opts.rows ?? 100);
      if (my !== generation) return;
      setState({
        kind: 'ready',
        columns: r.columns,
        rows: r.rows,
        rowCount: r.rowCount,
        ms: r.ms,
        samples,
        sql: plan.sql,
        gen: ++rendered,
      });
    } catch (e) {
      if (my !== generation) return;
      // A failed attempt is retried on the next edit, even if the statement is the same.
      lastSignature = undefined;
      const raw = e instanceof Error ? e.message : String(e);
      setState({ kind: 'problem', problem: explainPreviewError(raw, engine, dialect), sql: plan.sql });
    }
  };

  // Edits that arrive while a preview is computing wait for it and then coalesce into one more run, so fast typing
  // never queues a backlog of stale statements in the worker.
  let running = false;
  let pending = false;
  const run = async () => {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    try {
      await compute();
    } finally {
      running = false;
      if (pending && active()) {
        pending = false;
        void run();
      }
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, debounceMs);
  };
  const onUpdate = () => schedule();

  return {
    state,
    active,
    start() {
      if (active()) return;
      setActive(true);
      opts.doc.on('update', onUpdate);
      void run();
    },
    stop() {
      if (!active()) return;
      setActive(false);
      opts.doc.off('update', onUpdate);
      if (timer) clearTimeout(timer);
      generation++;
      lastSignature = undefined;
      setState({ kind: 'idle' });
    },
    recompute() {
      if (active()) void run();
    },
    refreshSamples() {
      refresh = true;
      void run();
    },
  };
}

/** What each loaded sample table holds, shared by every cell's preview on the page (one engine per page). */
const loadedInfo = new Map<string, SampleInfo>();
