import type { CellId } from '@pipebook/shared';
import { createMemo, For, onCleanup, Show } from 'solid-js';
import type { NotebookSession } from '../state/session.ts';
import { compareColumns, describeDiff } from './plan.ts';
import { createCellPreview } from './preview.ts';
import { sampleSettings } from './samples.ts';
import './preview.css';

const fmt = (n: number) => n.toLocaleString('en-US');

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  return String(v);
}

/**
 * Instant preview of a cell in the browser, on samples of its sources: labelled as a preview of a sample, shown next
 * to the cell's last real run, with a comparison of their columns and types. Live while active: every edit to the
 * cell or its upstream recomputes it (debounced). The kernel is never asked to run anything.
 */
export function PreviewPanel(props: { session: NotebookSession; cellId: CellId; cellName: string }) {
  const s = props.session;
  const preview = createCellPreview({
    notebookId: s.id,
    cellId: props.cellId,
    doc: s.store.doc,
    dialectOf: (e) => s.runtime.dialectOf(e),
  });
  onCleanup(() => preview.stop());
  const run = () => s.store.runs[props.cellId];
  const lastRun = () => {
    const r = run();
    return r && (r.status === 'done' || r.status === 'stale') && r.columns ? r : undefined;
  };
  const ready = () => {
    const st = preview.state();
    return st.kind === 'ready' ? st : undefined;
  };
  const diffs = createMemo(() => {
    const r = ready();
    const last = lastRun();
    return r && last?.columns ? compareColumns(r.columns, last.columns) : undefined;
  });
  const sampleLabel = () => {
    const r = ready();
    if (!r) return '';
    const parts = r.samples.map((x) => {
      const rows = !x.truncated
        ? `all ${fmt(x.rowCount)} rows`
        : x.mode === 'random'
          ? `a random sample of ${fmt(x.rowCount)} rows`
          : `the first ${fmt(x.rowCount)} rows`;
      return `${rows} of ${x.name}${x.from === 'cache' ? ' (kept in this browser)' : ''}`;
    });
    return parts.length ? `on ${parts.join(', ')}` : '';
  };

  return (
    <section
      class="preview"
      aria-label={`Preview of ${props.cellName}`}
      data-state={preview.state().kind}
      data-gen={ready()?.gen ?? 0}
    >
      <div class="preview-bar">
        <Show
          when={preview.active()}
          fallback={
            <button type="button" class="preview-toggle" onClick={() => preview.start()} title="Preview in the browser">
              Preview
            </button>
          }
        >
          <button type="button" class="preview-toggle" onClick={() => preview.stop()}>
            Stop preview
          </button>
          <button type="button" onClick={() => preview.refreshSamples()} title="Fetch new samples from the kernel">
            Refresh samples
          </button>
          <label class="preview-mode">
            <span class="visually-hidden">Sampling of sources</span>
            <select
              value={sampleSettings().mode ?? 'first'}
              onChange={(e) => {
                window.localStorage.setItem('pipebook.preview.mode', e.currentTarget.value);
                preview.recompute();
              }}
            >
              <option value="first">first rows</option>
              <option value="random">random sample</option>
            </select>
          </label>
        </Show>
        <Show when={preview.active()}>
          <span class="preview-badge">Preview of a sample · not the engine's result</span>
        </Show>
      </div>
      <Show when={preview.state().kind === 'loading'}>
        <p class="preview-loading" role="status">
          {(preview.state() as { what: string }).what}
        </p>
      </Show>
      <Show when={preview.state().kind === 'problem'}>
        <p class="preview-problem" role="note">
          {(preview.state() as { problem: { message: string } }).problem.message}
        </p>
      </Show>
      <Show when={ready()}>
        {(r) => (
          <>
            <p class="preview-summary" role="status">
              <span class="preview-rows" data-row-count={r().rowCount}>
                {fmt(r().rowCount)} rows
              </span>{' '}
              in the preview {sampleLabel()} · {Math.round(r().ms)} ms in the browser
            </p>
            <p class="preview-last-run">
              <Show when={lastRun()} fallback={<>Last real run: none yet.</>}>
                {(l) => (
                  <>
                    Last real run ({l().status === 'stale' ? 'stale, ' : ''}
                    {l().engine}): {fmt(l().rowCount ?? 0)} rows
                  </>
                )}
              </Show>
            </p>
            <Show when={diffs()}>
              {(d) => (
                <div class="preview-compare" data-agree={d().length === 0 ? 'yes' : 'no'}>
                  <Show when={d().length} fallback={<p>Columns and types agree with the last real run.</p>}>
                    <p>
                      {d().length} difference{d().length === 1 ? '' : 's'} in columns or types from the last real run:
                    </p>
                    <ul>
                      <For each={d()}>{(x) => <li>{describeDiff(x)}</li>}</For>
                    </ul>
                  </Show>
                </div>
              )}
            </Show>
            <div class="preview-grid-wrap">
              <table class="preview-grid" aria-label={`Preview rows of ${props.cellName}`}>
                <thead>
                  <tr>
                    <For each={r().columns}>
                      {(c) => (
                        <th scope="col">
                          {c.name} <span class="col-type">{c.type}</span>
                        </th>
                      )}
                    </For>
                  </tr>
                </thead>
                <tbody>
                  <For each={r().rows}>
                    {(row) => (
                      <tr>
                        <For each={row}>{(v) => <td>{cellText(v)}</td>}</For>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </>
        )}
      </Show>
    </section>
  );
}
