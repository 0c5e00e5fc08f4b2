// Chart geometry for the results chart view (bar, line, scatter) as plain SVG coordinates. Pure, so scaling,
// categories and non-numeric values are tested without a browser.
export type ChartKind = 'bar' | 'line' | 'scatter';

export interface ChartPoint {
  x: number;
  y: number;
  label: string;
  value: number;
}
export interface ChartGeometry {
  points: ChartPoint[];
  /** Bars: x is the bar's left edge and `barWidth` its width; y is its top. */
  barWidth: number;
  baseline: number;
  yTicks: Array<{ y: number; label: string }>;
  xLabels: Array<{ x: number; label: string }>;
  skipped: number;
}

export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

const fmt = (v: number) =>
  Math.abs(v) >= 1e6
    ? `${(v / 1e6).toFixed(1)}M`
    : Math.abs(v) >= 1e3
      ? `${(v / 1e3).toFixed(1)}k`
      : String(Math.round(v * 100) / 100);

export const CHART_PAD = { left: 56, right: 12, top: 12, bottom: 36 };

export function chartGeometry(
  rows: unknown[][],
  xIndex: number,
  yIndex: number,
  kind: ChartKind,
  width: number,
  height: number,
): ChartGeometry {
  const data: Array<{ xRaw: unknown; xNum?: number; y: number }> = [];
  let skipped = 0;
  for (const r of rows) {
    const y = toNumber(r[yIndex]);
    if (y === undefined) {
      skipped++;
      continue;
    }
    data.push({ xRaw: r[xIndex], xNum: toNumber(r[xIndex]), y });
  }
  const plotW = width - CHART_PAD.left - CHART_PAD.right;
  const plotH = height - CHART_PAD.top - CHART_PAD.bottom;
  const ys = data.map((d) => d.y);
  let yMin = Math.min(0, ...ys);
  let yMax = Math.max(0, ...ys);
  if (yMin === yMax) yMax = yMin + 1;
  const step = niceStep(yMax - yMin, 5);
  yMin = Math.floor(yMin / step) * step;
  yMax = Math.ceil(yMax / step) * step;
  const sy = (v: number) => CHART_PAD.top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;
  const yTicks: ChartGeometry['yTicks'] = [];
  for (let v = yMin; v <= yMax + step / 2; v += step) yTicks.push({ y: sy(v), label: fmt(v) });

  const numericX = kind === 'scatter' && data.length > 0 && data.every((d) => d.xNum !== undefined);
  let points: ChartPoint[];
  let barWidth = 0;
  const xLabels: ChartGeometry['xLabels'] = [];
  if (numericX) {
    const xs = data.map((d) => d.xNum!);
    let xMin = Math.min(...xs);
    let xMax = Math.max(...xs);
    if (xMin === xMax) {
      xMin -= 1;
      xMax += 1;
    }
    const sx = (v: number) => CHART_PAD.left + ((v - xMin) / (xMax - xMin)) * plotW;
    points = data.map((d) => ({ x: sx(d.xNum!), y: sy(d.y), label: String(d.xRaw), value: d.y }));
    const xs5 = niceStep(xMax - xMin, 5);
    for (let v = Math.ceil(xMin / xs5) * xs5; v <= xMax; v += xs5) xLabels.push({ x: sx(v), label: fmt(v) });
  } else {
    const n = Math.max(1, data.length);
    const band = plotW / n;
    barWidth = kind === 'bar' ? Math.max(1, band * 0.8) : 0;
    points = data.map((d, i) => ({
      x: kind === 'bar' ? CHART_PAD.left + i * band + band * 0.1 : CHART_PAD.left + i * band + band / 2,
      y: sy(d.y),
      label: d.xRaw === null || d.xRaw === undefined ? 'NULL' : String(d.xRaw),
      value: d.y,
    }));
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 70))));
    points.forEach((p, i) => {
      if (i % every === 0) xLabels.push({ x: kind === 'bar' ? p.x + barWidth / 2 : p.x, label: p.label });
    });
  }
  return { points, barWidth, baseline: sy(Math.max(yMin, Math.min(0, yMax))), yTicks, xLabels, skipped };
}
