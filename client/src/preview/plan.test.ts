import type { CellSnapshot } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { compareColumns, describeDiff, explainPreviewError, normalizeType, planPreview, sampleTable } from './plan.ts';

const cells = [
  { id: 'c_o', name: 'orders', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
  { id: 'c_c', name: 'customers', kind: 'source', source: '', config: { type: 'file', path: 'c.csv', format: 'csv' } },
  { id: 'c_big', name: 'big', kind: 'sql', source: 'SELECT * FROM orders WHERE amount > 10', config: {} },
  {
    id: 'c_j',
    name: 'joined',
    kind: 'join',
    source: '',
    config: { left: 'c_big', right: 'c_c', type: 'inner', on: [{ left: 'customer_id', right: 'customer_id' }] },
  },
  { id: 'c_md', name: 'notes', kind: 'markdown', source: '# hi', config: {} },
  { id: 'c_bad', name: 'bad', kind: 'sql', source: 'SELECT * FROM nowhere', config: {} },
] as unknown as CellSnapshot[];

describe('preview statements', () => {
  it('compiles a cell and its upstream for DuckDB with every source read from its sample table', () => {
    const p = planPreview(cells, 'c_j' as never);
    expect(p.sources).toEqual(['c_o', 'c_c']);
    expect(p.sql).toContain('"__pipebook_sample_c_o"');
    expect(p.sql).toContain('"__pipebook_sample_c_c"');
    // A file source needs no path resolution: its sample stands in for it.
    expect(p.sql).not.toContain('read_csv');
    expect(p.sql).toMatch(/WHERE amount > 10/);
  });

  it('previews a source cell as its sample', () => {
    expect(planPreview(cells, 'c_o' as never)).toEqual({
      cellId: 'c_o',
      sql: 'SELECT * FROM "__pipebook_sample_c_o"',
      sources: ['c_o'],
    });
    expect(sampleTable('c-1.x' as never)).toBe('__pipebook_sample_c_1_x');
  });

  it('refuses what a run would refuse, naming the cell', () => {
    expect(() => planPreview([...cells, { ...cells[2], id: 'c_dup' }] as CellSnapshot[], 'c_j' as never)).toThrow(
      /big/,
    );
    expect(() => planPreview(cells, 'c_md' as never)).toThrow(/Markdown/);
  });
});

describe('messages for what the browser engine cannot run', () => {
  it('names a function that lives in an extension the browser does not load', () => {
    const p = explainPreviewError(
      'Catalog Error: Scalar Function with name json_extract is not in the catalog, but it exists in the json extension.\n\nPlease try installing and loading the json extension',
      'duckdb',
      'duckdb',
    );
    expect(p).toMatchObject({ construct: 'json_extract', extension: 'json' });
    expect(p.message).toContain('json_extract()');
    expect(p.message).toContain('still runs on its engine (duckdb)');
  });

  it('names a dialect-only function of another engine', () => {
    const p = explainPreviewError(
      'Catalog Error: Scalar Function with name iff does not exist!\nDid you mean "if"?',
      'snowflake_prod',
      'snowflake',
    );
    expect(p.construct).toBe('iff');
    expect(p.message).toMatch(/iff\(\).*snowflake SQL.*still runs on its engine \(snowflake_prod\)/);
  });

  it('names table functions, types and syntax of other dialects', () => {
    expect(
      explainPreviewError(
        'Catalog Error: Table Function with name read_parquet is not in the catalog, but it exists in the parquet extension.',
        'duckdb',
        'duckdb',
      ).message,
    ).toContain('table function read_parquet() needs DuckDB’s parquet extension'.replace('’', "'"));
    expect(
      explainPreviewError('Catalog Error: Type with name VARIANT does not exist!', 'sf', 'snowflake').construct,
    ).toBe('VARIANT');
    expect(
      explainPreviewError('Parser Error: syntax error at or near "QUALIFY2"', 'spark', 'databricks').message,
    ).toMatch(/"QUALIFY2" is databricks syntax/);
  });

  it('explains that a warehouse table read directly has no sample', () => {
    const p = explainPreviewError(
      'Catalog Error: Table with name nowhere does not exist!\nDid you mean "x"?',
      'duckdb',
      'duckdb',
    );
    expect(p.construct).toBe('nowhere');
    expect(p.message).toMatch(/reads the table nowhere directly.*source cell/);
  });

  it('passes ordinary SQL errors through', () => {
    const p = explainPreviewError(
      'Binder Error: Referenced column "amont" not found in FROM clause!',
      'duckdb',
      'duckdb',
    );
    expect(p).toEqual({ message: 'Preview failed: Referenced column "amont" not found in FROM clause!' });
  });
});

describe('columns and types, preview against the last run', () => {
  it('agrees across spellings of the same type', () => {
    expect(normalizeType('int')).toBe('INTEGER');
    expect(normalizeType('NUMBER(38, 0)')).toBe('DECIMAL(38,0)');
    expect(normalizeType('STRING')).toBe('VARCHAR');
    expect(
      compareColumns(
        [
          { name: 'id', type: 'BIGINT' },
          { name: 'name', type: 'VARCHAR' },
        ],
        [
          { name: 'ID', type: 'int8' },
          { name: 'name', type: 'TEXT' },
        ],
      ),
    ).toEqual([]);
  });

  it('lists missing, extra and retyped columns', () => {
    const d = compareColumns(
      [
        { name: 'id', type: 'BIGINT' },
        { name: 'total', type: 'DOUBLE' },
        { name: 'extra', type: 'VARCHAR' },
      ],
      [
        { name: 'id', type: 'BIGINT' },
        { name: 'total', type: 'DECIMAL(38,2)' },
        { name: 'country', type: 'VARCHAR' },
      ],
    );
    expect(d.map(describeDiff)).toEqual([
      'total: DOUBLE in the preview, DECIMAL(38,2) in the last run',
      'extra (VARCHAR) is in the preview but not in the last run',
      'country (VARCHAR) is in the last run but not in the preview',
    ]);
  });
});
