import { describe, expect, it } from 'vitest';
import { layoutDag } from './dag-layout.ts';

describe('pipeline layout', () => {
  it('lays the pipeline out left to right, inputs before readers, with a routed path per edge', () => {
    const l = layoutDag(
      [
        { id: 'a', label: 'orders', kind: 'source' },
        { id: 'b', label: 'clean', kind: 'sql' },
        { id: 'c', label: 'customers', kind: 'source' },
        { id: 'd', label: 'joined', kind: 'join' },
      ],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'd' },
        { from: 'c', to: 'd' },
        { from: 'x', to: 'd' },
      ],
    );
    const x = Object.fromEntries(l.nodes.map((n) => [n.id, n.x]));
    expect(x.a).toBeLessThan(x.b);
    expect(x.b).toBeLessThan(x.d);
    expect(x.c).toBeLessThan(x.d);
    expect(l.edges).toHaveLength(3);
    for (const e of l.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    expect(l.width).toBeGreaterThan(0);
  });
});
