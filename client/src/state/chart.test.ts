import { describe, expect, it } from 'vitest';
import { CHART_PAD, chartGeometry, toNumber } from './chart.ts';

describe('chart geometry', () => {
  const rows = [
    ['a', 10],
    ['b', '30'],
    ['c', null],
    ['d', 20],
  ];
  it('reads numbers from numbers, numeric strings (decimals) and booleans only', () => {
    expect(toNumber('16265038.50')).toBe(16265038.5);
    expect(toNumber('abc')).toBeUndefined();
    expect(toNumber(null)).toBeUndefined();
    expect(toNumber(true)).toBe(1);
  });
  it('draws one bar per row with a number, tallest for the largest value, on a zero baseline', () => {
    const g = chartGeometry(rows, 0, 1, 'bar', 400, 200);
    expect(g.points.map((p) => p.label)).toEqual(['a', 'b', 'd']);
    expect(g.skipped).toBe(1);
    const [a, b, d] = g.points;
    expect(b.y).toBeLessThan(d.y);
    expect(d.y).toBeLessThan(a.y);
    expect(g.baseline).toBeCloseTo(200 - CHART_PAD.bottom);
    expect(a.x).toBeLessThan(b.x);
    expect(g.barWidth).toBeGreaterThan(0);
    expect(g.yTicks[0].label).toBe('0');
  });
  it('puts scatter points on a numeric x axis', () => {
    const g = chartGeometry(
      [
        [1, 1],
        [3, 2],
        [2, 3],
      ],
      0,
      1,
      'scatter',
      400,
      200,
    );
    const xs = g.points.map((p) => p.x);
    expect(xs[0]).toBeCloseTo(CHART_PAD.left);
    expect(xs[1]).toBeCloseTo(400 - CHART_PAD.right);
    expect(xs[2]).toBeCloseTo((xs[0] + xs[1]) / 2);
  });
  it('handles negative values and an empty result', () => {
    const g = chartGeometry(
      [
        ['x', -5],
        ['y', 5],
      ],
      0,
      1,
      'line',
      400,
      200,
    );
    expect(g.points[0].y).toBeGreaterThan(g.baseline);
    expect(g.points[1].y).toBeLessThan(g.baseline);
    expect(chartGeometry([], 0, 1, 'bar', 400, 200).points).toEqual([]);
  });
});
