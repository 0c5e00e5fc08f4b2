import { describe, expect, it } from 'vitest';
import type { CellId } from '../ids.ts';
import type { CellKind, CellSnapshot } from '../notebook/schema.ts';
import { blockingErrors, buildGraph, downstreamClosure, upstreamClosure } from './dag.ts';
import { pythonReferences, rewritePythonReferences } from './python.ts';
import { applyEdits } from './references.ts';

const cell = (id: string, name: string, kind: CellKind, source = '', config: Record<string, unknown> = {}) =>
  ({ id: id as CellId, name, kind, source, config }) as CellSnapshot;
const sql = (id: string, source: string, name = id) => cell(id, name, 'sql', source);
const src = (id: string, table = id) => cell(id, id, 'source', '', { type: 'table', table });

describe('buildGraph', () => {
  it('links SQL cells by name and visual steps by id, in both directions', () => {
    const g = buildGraph([
      src('raw'),
      sql('clean', 'SELECT * FROM raw WHERE x > 0'),
      cell('f', 'filtered', 'filter', '', { input: 'clean', combinator: 'and', conditions: [] }),
      cell('j', 'joined', 'join', '', { left: 'f', right: 'raw', type: 'inner', on: [] }),
      cell('u', 'unioned', 'union', '', { inputs: ['f', 'j'], distinct: false }),
      cell('t', 'out', 'target', '', { input: 'u', type: 'table', table: 'x', mode: 'replace' }),
    ]);
    expect(g.upstream.get('clean' as CellId)).toEqual(['raw']);
    expect(g.upstream.get('j' as CellId)).toEqual(['f', 'raw']);
    expect(g.upstream.get('u' as CellId)).toEqual(['f', 'j']);
    expect(g.downstream.get('raw' as CellId)).toEqual(['clean', 'j']);
    expect(upstreamClosure(g, 't' as CellId)).toEqual(['raw', 'clean', 'f', 'j', 'u']);
    expect(downstreamClosure(g, 'clean' as CellId)).toEqual(['f', 'j', 'u', 't']);
    expect(g.errors.size).toBe(0);
  });

  it('[G1] orders inputs before readers deterministically, sources first, then display order', () => {
    const cells = [
      sql('b', 'SELECT * FROM a'),
      sql('a', 'SELECT * FROM s2'),
      sql('c', 'SELECT 1'),
      src('s2'),
      src('s1'),
    ];
    const g = buildGraph(cells);
    expect(g.order).toEqual(['s2', 's1', 'a', 'b', 'c']);
    // same on every replica: the input order of equal cells decides ties, not object identity
    expect(buildGraph(cells.map((c) => ({ ...c }))).order).toEqual(g.order);
  });

  it('[G2] names a cycle on every cell in it and puts cyclic cells last', () => {
    const g = buildGraph([
      sql('a', 'SELECT * FROM c'),
      sql('b', 'SELECT * FROM a'),
      sql('c', 'SELECT * FROM b'),
      sql('d', 'SELECT * FROM c'),
      sql('ok', 'SELECT 1'),
    ]);
    expect(g.cycles).toEqual([['a', 'b', 'c']]);
    for (const id of ['a', 'b', 'c']) {
      expect(g.errors.get(id as CellId)).toEqual([
        expect.objectContaining({ code: 'cycle', message: expect.stringContaining('a -> b -> c -> a') }),
      ]);
    }
    expect(g.errors.get('d' as CellId)).toBeUndefined();
    expect(blockingErrors(g, 'd' as CellId).map((e) => [e.cellId, e.error.code])).toEqual([
      ['a', 'cycle'],
      ['b', 'cycle'],
      ['c', 'cycle'],
    ]);
    expect(g.order).toEqual(['ok', 'a', 'b', 'c', 'd']);
  });

  it('[G2] reports a two-cell cycle through config ids and a step that reads itself', () => {
    const g = buildGraph([
      cell('x', 'x', 'filter', '', { input: 'y', combinator: 'and', conditions: [] }),
      cell('y', 'y', 'sort', '', { input: 'x', keys: [] }),
      cell('z', 'z', 'limit', '', { input: 'z', count: 1 }),
    ]);
    expect(g.errors.get('x' as CellId)?.[0].cycle).toEqual(['x', 'y', 'x']);
    expect(g.errors.get('z' as CellId)?.[0]).toMatchObject({ code: 'cycle', cycle: ['z', 'z'] });
  });

  it('[G3] reports duplicate names on each duplicate and on cells that read the ambiguous name, renaming nothing', () => {
    const cells = [src('a'), cell('a2', 'A', 'sql', 'SELECT 1'), sql('r', 'SELECT *\nFROM   a')];
    const g = buildGraph(cells);
    expect(g.errors.get('a' as CellId)?.[0].code).toBe('duplicate_name');
    expect(g.errors.get('a2' as CellId)?.[0].code).toBe('duplicate_name');
    expect(g.errors.get('r' as CellId)?.[0]).toMatchObject({ code: 'duplicate_name', line: 2, column: 8 });
    expect(g.byName.get('a')).toEqual(['a', 'a2']);
    expect(cells.map((c) => c.name)).toEqual(['a', 'A', 'r']);
  });

  it('[G4] [R6] reports unknown and unusable inputs of visual steps, and reads of markdown or target cells', () => {
    const g = buildGraph([
      cell('m', 'notes', 'markdown', '# hi'),
      cell('t', 'written', 'target', '', { input: 'gone', type: 'table', table: 'x', mode: 'replace' }),
      cell('f', 'f', 'filter', '', { input: 'm', combinator: 'and', conditions: [] }),
      cell('u', 'u', 'union', '', { inputs: 'nope', distinct: false }),
      sql('q', 'SELECT * FROM notes JOIN written ON true JOIN warehouse_table ON true'),
    ]);
    expect(g.errors.get('t' as CellId)?.[0].code).toBe('unknown_reference');
    expect(g.errors.get('f' as CellId)?.[0].code).toBe('unknown_reference');
    expect(g.errors.get('u' as CellId)?.[0].code).toBe('invalid_config');
    // names that are not cells are warehouse tables: not an error
    expect(g.errors.get('q' as CellId)?.map((e) => [e.code, e.line, e.column])).toEqual([
      ['unknown_reference', 1, 15],
      ['unknown_reference', 1, 26],
    ]);
  });

  it('ignores names in strings, comments, columns and shadowing CTEs, and matches quoted names', () => {
    const g = buildGraph([
      src('orders'),
      src('customers'),
      sql('q1', "SELECT 'orders', customers FROM t -- FROM orders"),
      sql('q2', 'WITH orders AS (SELECT 1) SELECT * FROM orders'),
      sql('q3', 'SELECT * FROM "Customers"'),
    ]);
    expect(g.upstream.get('q1' as CellId)).toEqual([]);
    expect(g.upstream.get('q2' as CellId)).toEqual([]);
    expect(g.upstream.get('q3' as CellId)).toEqual(['customers']);
  });

  it('[R5] does not count a SQL cell reading a table named like itself as a self-reference', () => {
    const g = buildGraph([sql('orders', 'SELECT * FROM orders')]);
    expect(g.upstream.get('orders' as CellId)).toEqual([]);
    expect(g.errors.size).toBe(0);
  });

  it('links PySpark cells by identifiers and whole-string names', () => {
    const g = buildGraph([
      src('orders'),
      src('customers'),
      src('products'),
      src('unused'),
      cell(
        'py',
        'py',
        'pyspark',
        [
          '# unused is only mentioned in a comment',
          'df = orders.join(spark.table("customers"), "customer_id")',
          'x = df.products  # an attribute, not a reference',
          'f(unused=1, s="unused too")',
          'print("""products""")',
        ].join('\n'),
      ),
    ]);
    expect(g.upstream.get('py' as CellId)).toEqual(['orders', 'customers', 'products']);
    expect(pythonReferences("a = b.c + 'd'").map((r) => r.name)).toEqual(['a', 'b', 'd']);
    const sqlInPython =
      'df = spark.sql(' +
      '"'.repeat(3) +
      '\nSELECT * FROM orders o JOIN `customers` c USING (id) -- products\n' +
      '"'.repeat(3) +
      ')';
    const refs = pythonReferences(sqlInPython).filter((r) => r.name !== 'df' && r.name !== 'spark');
    expect(refs.map((r) => [r.name, sqlInPython.slice(r.start, r.end)])).toEqual([
      ['orders', 'orders'],
      ['customers', 'customers'],
    ]);
  });

  it('renames PySpark references to a cell, leaving attributes, comments and other strings alone', () => {
    const src =
      'df = orders.join(spark.table("orders"), "id")  # orders\nx = df.orders\nprint("orders here")\n' +
      "y = spark.sql('SELECT count(*) FROM orders JOIN `orders` USING (id)')";
    expect(applyEdits(src, rewritePythonReferences(src, 'ORDERS', 'sales'))).toBe(
      'df = sales.join(spark.table("sales"), "id")  # orders\nx = df.orders\nprint("orders here")\n' +
        "y = spark.sql('SELECT count(*) FROM sales JOIN `sales` USING (id)')",
    );
  });

  it('handles a long chain without deep recursion', () => {
    const cells = [src('s0')];
    for (let i = 1; i <= 3000; i++) cells.push(sql(`s${i}`, `SELECT * FROM s${i - 1}`));
    cells.push(sql('s0x', 'SELECT * FROM s3000'));
    // close a cycle over the whole chain
    cells[0] = sql('s0', 'SELECT * FROM s0x');
    const g = buildGraph(cells);
    expect(g.cycles).toHaveLength(1);
    expect(g.cycles[0]).toHaveLength(3002);
    expect(upstreamClosure(g, 's10' as CellId)).toHaveLength(3001);
  });
});
