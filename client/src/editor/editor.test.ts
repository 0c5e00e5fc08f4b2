import { describe, expect, it } from 'vitest';
import { errorRange } from './cell-editor.ts';
import { buildCompletionSchema } from './completion.ts';
import { formatSql } from './format.ts';

describe('error underline', () => {
  const doc = 'SELECT a\n  FROM t\nWHERE x = ';
  it('underlines the reported line from its first non-blank character', () => {
    expect(errorRange(doc, { message: 'm', line: 2 })).toEqual({ from: 11, to: 17 });
  });
  it('starts at the reported column when there is one', () => {
    expect(errorRange(doc, { message: 'm', line: 1, column: 8 })).toEqual({ from: 7, to: 8 });
  });
  it('clamps lines past the end and handles an empty document', () => {
    expect(errorRange(doc, { message: 'm', line: 99 }).from).toBe(18);
    expect(errorRange('', { message: 'm', line: 1 })).toEqual({ from: 0, to: 0 });
  });
});

describe('completion schema', () => {
  it('offers catalog tables with columns and other cells with their output columns; a cell shadows a table', () => {
    const ns = buildCompletionSchema(
      [
        { schema: 'main', name: 'orders', columns: [{ name: 'order_id', type: 'BIGINT' }] },
        { schema: 'main', name: 'clean', columns: [{ name: 'old', type: 'INT' }] },
      ],
      [
        { id: 'c1', name: 'clean', kind: 'sql', columns: [{ name: 'amount', type: 'DOUBLE' }] },
        { id: 'c2', name: 'me', kind: 'sql' },
        { id: 'c3', name: 'notes', kind: 'markdown' },
      ],
      'c2',
    ) as Record<string, { self: { label: string; detail: string }; children: Array<{ label: string }> }>;
    expect(ns.orders.children.map((c) => c.label)).toEqual(['order_id']);
    expect(ns.clean.self.detail).toBe('cell (sql)');
    expect(ns.clean.children.map((c) => c.label)).toEqual(['amount']);
    expect(ns.me).toBeUndefined();
    expect(ns.notes).toBeUndefined();
    expect((ns.main as unknown as Record<string, unknown>).orders).toBeDefined();
  });
});

describe('format', () => {
  it('formats in the engine’s dialect with upper-case keywords', async () => {
    expect(await formatSql('select a,b from t where x=1', 'duckdb')).toBe(
      'SELECT\n  a,\n  b\nFROM\n  t\nWHERE\n  x = 1',
    );
    expect(await formatSql('select `a b` from t', 'databricks')).toContain('`a b`');
  });
});
