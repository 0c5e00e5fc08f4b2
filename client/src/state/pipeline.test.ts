import { demoNotebookFile, fileToState } from '@pipebook/shared';
import { inputHashes } from '@pipebook/shared/compile/hash';
import { describe, expect, it } from 'vitest';
import { kernelInputHashes, pipelineOf } from './pipeline.ts';

const cells = fileToState(demoNotebookFile()).cells;
const engines = {
  dialectOf: (e: string) => (e === 'duckdb' ? ('duckdb' as const) : undefined),
  defaultEngine: 'duckdb',
};

describe('pipeline view of a notebook', () => {
  it('has an edge for every reference, by name in SQL and by id in visual steps', () => {
    const p = pipelineOf(cells, engines);
    const edges = p.edges.map((e) => `${e.from}>${e.to}`).sort();
    expect(edges).toEqual(
      [
        'demo_orders>demo_orders_clean',
        'demo_orders_clean>demo_orders_customers',
        'demo_customers>demo_orders_customers',
        'demo_orders_customers>demo_revenue_by_country',
        'demo_revenue_by_country>demo_top_countries',
        'demo_revenue_by_country>demo_report',
      ].sort(),
    );
    expect(p.inputsOf('demo_orders_customers')).toEqual(['demo_orders_clean', 'demo_customers']);
  });

  it('hashes inputs exactly as the kernel stores them: engine name, then the hash for its dialect', () => {
    const h = kernelInputHashes(cells, engines);
    const raw = inputHashes(cells, 'duckdb');
    expect(h.get('demo_orders_clean')).toBe(`duckdb:${raw.get('demo_orders_clean' as never)}`);
    // A cell on an engine the kernel does not have gets no hash (no false "stale").
    const other = cells.map((c) => (c.id === 'demo_top_countries' ? { ...c, engine: 'warehouse' } : c));
    expect(kernelInputHashes(other, engines).has('demo_top_countries')).toBe(false);
  });

  it('compiles a visual step to SQL and reports graph errors on the cell that has them', () => {
    const p = pipelineOf(cells, engines);
    const out = p.compile('demo_revenue_by_country');
    expect('sql' in out && out.sql).toMatch(/GROUP BY "country"/);
    const cyclic = cells.map((c) =>
      c.id === 'demo_orders_clean' ? { ...c, source: 'SELECT * FROM top_countries' } : c,
    );
    const q = pipelineOf(cyclic, engines);
    expect(q.errors.demo_top_countries.code).toBe('cycle');
    const out2 = q.compile('demo_top_countries');
    expect('error' in out2 && out2.error).toMatch(/read each other/);
  });
});
