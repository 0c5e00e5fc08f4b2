import type { CellId, CellSnapshot } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import type { CatalogTable } from '../engines/engine.ts';
import { buildContext, mentions } from './context.ts';
import { estimateTokens } from './tokens.ts';

function catalog(n: number): CatalogTable[] {
  return Array.from({ length: n }, (_, i) => ({
    schema: 'main',
    name: `table_${String(i).padStart(3, '0')}`,
    columns: Array.from({ length: 10 }, (_, j) => ({ name: `col_${j}`, type: 'VARCHAR' })),
  }));
}

const cell = (id: string, name: string, source: string): CellSnapshot => ({
  id: id as CellId,
  name,
  kind: 'sql',
  source,
  config: {},
});

describe('buildContext', () => {
  it('fits a 500-table catalog into the budget and keeps the tables the request names', () => {
    const tables = catalog(500);
    tables[431] = { schema: 'sales', name: 'invoices', columns: [{ name: 'invoice_id', type: 'BIGINT' }] };
    const ctx = buildContext({
      request: 'total of invoices joined with table_250 and table_007',
      dialect: 'duckdb',
      tables,
      cells: [],
      runs: {},
      budgetTokens: 2_000,
    });
    expect(ctx.tokens).toBeLessThanOrEqual(2_000);
    expect(estimateTokens(ctx.text)).toBe(ctx.tokens);
    expect(ctx.includedTables.slice(0, 3).sort()).toEqual(['sales.invoices', 'table_007', 'table_250']);
    expect(ctx.text).toContain('- sales.invoices(invoice_id BIGINT)');
    expect(ctx.text).toMatch(/- table_250\(col_0 VARCHAR, .*col_9 VARCHAR\)/);
    expect(ctx.omittedTables.length).toBeGreaterThan(400);
    expect(ctx.text).toMatch(/## More tables \(columns not shown\)\n.*and \d+ more not listed/s);
  });

  it('is deterministic and ranks tables sharing words with the request before others', () => {
    const tables: CatalogTable[] = [
      { schema: 'main', name: 'aaa', columns: [{ name: 'x', type: 'INT' }] },
      { schema: 'main', name: 'web_sessions', columns: [{ name: 'country', type: 'VARCHAR' }] },
      { schema: 'main', name: 'zzz', columns: [{ name: 'y', type: 'INT' }] },
    ];
    const input = {
      request: 'sessions by country',
      dialect: 'duckdb' as const,
      tables,
      cells: [],
      runs: {},
      budgetTokens: 80,
    };
    const a = buildContext(input);
    expect(buildContext(input)).toEqual(a);
    expect(a.includedTables[0]).toBe('web_sessions');
    expect(a.tokens).toBeLessThanOrEqual(80);
  });

  it('shows cells with their output columns and last error, named cells first', () => {
    const cells = [
      cell('c1', 'orders_clean', 'SELECT * FROM orders'),
      cell('c2', 'revenue', 'SELECT sum(amount) FROM orders_clean'),
    ];
    const ctx = buildContext({
      request: 'use orders_clean',
      dialect: 'duckdb',
      tables: [],
      cells,
      runs: {
        c1: {
          status: 'done',
          runId: 'r',
          engine: 'duckdb',
          by: { id: 'u', name: 'U' },
          columns: [{ name: 'amount', type: 'DOUBLE' }],
        },
        c2: {
          status: 'error',
          runId: 'r',
          engine: 'duckdb',
          by: { id: 'u', name: 'U' },
          error: { code: 'sql_error', message: 'boom' },
        },
      },
      budgetTokens: 1_000,
    });
    expect(ctx.text).toContain('### orders_clean (sql)\ncolumns: amount DOUBLE\nSELECT * FROM orders');
    expect(ctx.text).toContain('last run failed: boom');
    expect(ctx.includedCells).toEqual(['orders_clean', 'revenue']);
  });

  it('maps visual-step inputs from ids to names', () => {
    const cells: CellSnapshot[] = [
      cell('c1', 'orders_clean', 'SELECT 1'),
      {
        id: 'c2' as CellId,
        name: 'by_country',
        kind: 'aggregate',
        source: '',
        config: { input: 'c1', groupBy: ['country'], measures: [] },
      },
    ];
    const ctx = buildContext({ request: 'x', dialect: 'duckdb', tables: [], cells, runs: {}, budgetTokens: 1_000 });
    expect(ctx.text).toContain('config: {"input":"orders_clean","groupBy":["country"],"measures":[]}');
  });
});

describe('mentions', () => {
  it('matches whole words, singular or plural, case-insensitively', () => {
    expect(mentions('Revenue per Customer', 'customers')).toBe(true);
    expect(mentions('list the orders', 'orders')).toBe(true);
    expect(mentions('preorders only', 'orders')).toBe(false);
    expect(mentions('orders_clean', 'orders')).toBe(false);
  });
});
