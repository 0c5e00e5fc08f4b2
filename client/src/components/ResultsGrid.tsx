// biome-ignore-all lint/a11y/useSemanticElements: a virtualised grid cannot be a <table> (rows are absolutely positioned), so it uses the ARIA grid pattern
// biome-ignore-all lint/a11y/useFocusableInteractive: the grid itself is the single tab stop, as the ARIA grid pattern prescribes
import { createEffect, createSignal, For, Show } from 'solid-js';
import { type ResultPager, visibleWindow } from '../state/results.ts';

const ROW_HEIGHT = 26;
const VIEWPORT = 260;

export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A virtualised grid: only the visible rows (plus a margin) exist in the DOM; pages load as you scroll. */
export function ResultsGrid(props: { pager: ResultPager; label: string }) {
  const [scrollTop, setScrollTop] = createSignal(0);
  const count = () => props.pager.rowCount() ?? 0;
  const win = () => visibleWindow(scrollTop(), VIEWPORT, ROW_HEIGHT, count());
  createEffect(() => {
    const w = win();
    props.pager.ensure(w.start, Math.max(w.end, w.start + 1));
  });
  const rows = () => {
    props.pager.version();
    const w = win();
    const out: Array<{ index: number; row: unknown[] | undefined }> = [];
    for (let i = w.start; i < w.end; i++) out.push({ index: i, row: props.pager.row(i) });
    return out;
  };
  const cols = () => props.pager.columns();
  const template = () => `4rem repeat(${Math.max(1, cols().length)}, minmax(8rem, 1fr))`;
  return (
    <div class="results-grid">
      <Show when={props.pager.error()}>
        <p role="alert" class="error">
          {props.pager.error()}
        </p>
      </Show>
      <p class="row-count" aria-live="polite">
        <Show when={props.pager.rowCount() !== undefined} fallback="Loading result…">
          {new Intl.NumberFormat('en-US').format(count())} {count() === 1 ? 'row' : 'rows'}
        </Show>
      </p>
      <div
        class="grid-viewport"
        role="grid"
        aria-label={props.label}
        aria-rowcount={count() + 1}
        aria-colcount={cols().length}
        tabindex="0"
        style={{ height: `${Math.min(VIEWPORT, (count() + 1) * ROW_HEIGHT + 2)}px` }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div class="grid-header" role="row" aria-rowindex={1} style={{ 'grid-template-columns': template() }}>
          <span role="columnheader" class="rownum">
            #
          </span>
          <For each={cols()}>
            {(c) => (
              <span role="columnheader" title={`${c.name} (${c.type})`}>
                <span class="col-name">{c.name}</span>
                <span class="col-type">{c.type}</span>
              </span>
            )}
          </For>
        </div>
        <div class="grid-body" style={{ height: `${count() * ROW_HEIGHT}px` }}>
          <For each={rows()}>
            {(r) => (
              <div
                class="grid-row"
                role="row"
                aria-rowindex={r.index + 2}
                style={{
                  top: `${r.index * ROW_HEIGHT}px`,
                  height: `${ROW_HEIGHT}px`,
                  'grid-template-columns': template(),
                }}
              >
                <span class="rownum" role="rowheader">
                  {r.index + 1}
                </span>
                <For each={cols()}>
                  {(_, ci) => (
                    <span role="gridcell" class={r.row?.[ci()] === null ? 'null' : undefined}>
                      {r.row ? formatCell(r.row[ci()]) : '…'}
                    </span>
                  )}
                </For>
              </div>
            )}
          </For>
        </div>
      </div>
    </div>
  );
}
