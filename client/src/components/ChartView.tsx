import { createEffect, createMemo, createSignal, For, Show } from 'solid-js';
import { CHART_PAD, type ChartKind, chartGeometry, toNumber } from '../state/chart.ts';
import type { ResultPager } from '../state/results.ts';

const W = 640;
const H = 280;
const MAX_POINTS = 1000;

/** Bar, line or scatter of two result columns, over the first rows of the result. */
export function ChartView(props: { pager: ResultPager; label: string }) {
  const [kind, setKind] = createSignal<ChartKind>('bar');
  const [x, setX] = createSignal(0);
  const [y, setY] = createSignal<number | undefined>();
  createEffect(() => props.pager.ensure(0, MAX_POINTS));
  const rows = createMemo(() => {
    props.pager.version();
    const n = Math.min(props.pager.rowCount() ?? 0, MAX_POINTS);
    const out: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const r = props.pager.row(i);
      if (r) out.push(r);
    }
    return out;
  });
  const cols = () => props.pager.columns();
  // Default y: the first numeric column that is not x.
  const yIndex = () => {
    const chosen = y();
    if (chosen !== undefined) return chosen;
    const first = rows()[0];
    const i = cols().findIndex((_, ci) => ci !== x() && first && toNumber(first[ci]) !== undefined);
    return i === -1 ? Math.min(1, cols().length - 1) : i;
  };
  const geo = createMemo(() => chartGeometry(rows(), x(), yIndex(), kind(), W, H));
  const linePath = () =>
    geo()
      .points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
      .join(' ');
  return (
    <div class="chart-view">
      <fieldset class="chart-controls">
        <legend class="visually-hidden">Chart settings</legend>
        <label>
          Chart
          <select value={kind()} onChange={(e) => setKind(e.currentTarget.value as ChartKind)}>
            <option value="bar">bar</option>
            <option value="line">line</option>
            <option value="scatter">scatter</option>
          </select>
        </label>
        <label>
          X
          <select value={x()} onChange={(e) => setX(Number(e.currentTarget.value))}>
            <For each={cols()}>{(c, i) => <option value={i()}>{c.name}</option>}</For>
          </select>
        </label>
        <label>
          Y
          <select value={yIndex()} onChange={(e) => setY(Number(e.currentTarget.value))}>
            <For each={cols()}>{(c, i) => <option value={i()}>{c.name}</option>}</For>
          </select>
        </label>
      </fieldset>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${kind()} chart of ${cols()[yIndex()]?.name ?? ''} by ${cols()[x()]?.name ?? ''} (${props.label})`}
      >
        <For each={geo().yTicks}>
          {(t) => (
            <g class="tick">
              <line x1={CHART_PAD.left} x2={W - CHART_PAD.right} y1={t.y} y2={t.y} />
              <text x={CHART_PAD.left - 6} y={t.y + 4} text-anchor="end">
                {t.label}
              </text>
            </g>
          )}
        </For>
        <For each={geo().xLabels}>
          {(t) => (
            <text class="xlabel" x={t.x} y={H - CHART_PAD.bottom + 16} text-anchor="middle">
              {t.label.length > 12 ? `${t.label.slice(0, 11)}…` : t.label}
            </text>
          )}
        </For>
        <Show when={kind() === 'bar'}>
          <For each={geo().points}>
            {(p) => (
              <rect
                class="bar"
                x={p.x}
                y={Math.min(p.y, geo().baseline)}
                width={geo().barWidth}
                height={Math.abs(geo().baseline - p.y)}
              >
                <title>{`${p.label}: ${p.value}`}</title>
              </rect>
            )}
          </For>
        </Show>
        <Show when={kind() === 'line'}>
          <path class="line" d={linePath()} fill="none" />
        </Show>
        <Show when={kind() !== 'bar'}>
          <For each={geo().points}>
            {(p) => (
              <circle class="dot" cx={p.x} cy={p.y} r={kind() === 'scatter' ? 3.5 : 2.5}>
                <title>{`${p.label}: ${p.value}`}</title>
              </circle>
            )}
          </For>
        </Show>
      </svg>
      <Show when={geo().skipped > 0}>
        <p class="hint">{geo().skipped} rows without a number in the Y column are not shown.</p>
      </Show>
    </div>
  );
}
