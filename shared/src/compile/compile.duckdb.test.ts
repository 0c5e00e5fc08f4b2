// Every statement compiled for DuckDB here is run on a real in-memory DuckDB, and its rows are checked against rows
// computed in JavaScript from the same generated data (never copied from DuckDB's output).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipebookError } from '../errors.ts';
import type { CellId } from '../ids.ts';
import { docFromFile, fileToState } from '../notebook/file-format.ts';
import { renameCell } from '../notebook/operations.ts';
import { readCells } from '../notebook/read.ts';
import type { CellKind, CellSnapshot } from '../notebook/schema.ts';
import { demoNotebookFile } from '../notebook/templates.ts';
import { type CompileOptions, compileCell, createCompiler } from './compile.ts';
import { quoteIdent, stringLiteral } from './quote.ts';
import { duckdbErrorPosition, mapPosition } from './source-map.ts';
import { compileTargetStatement } from './target.ts';
import { openTestDb, type Row, seeded, sortRows, type TestDb } from './testing-duckdb.ts';

const HOSTILE = ["x'; DROP TABLE y; --", 'a"b', 'C:\\new\\table\\', 'Zoë 😀 naïve', "O'Brien", 'line\nbreak', '%_'];
const COUNTRIES = ['DE', 'FR', 'US', "Côte d'Ivoire", ...HOSTILE.slice(0, 3)];
const STATUSES = ['paid', 'cancelled', 'shipped', null];

interface Customer {
  customer_id: number;
  name: string;
  country: string | null;
}
interface Order {
  order_id: number;
  customer_id: number;
  order_date: string;
  amount: number | null;
  status: string | null;
}

const rand = seeded(42);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
const customers: Customer[] = Array.from({ length: 16 }, (_, i) => ({
  customer_id: i + 1,
  name: i < HOSTILE.length ? HOSTILE[i] : `customer ${i + 1}`,
  country: i === 15 ? null : COUNTRIES[i % COUNTRIES.length],
}));
const orders: Order[] = Array.from({ length: 240 }, (_, i) => ({
  order_id: i + 1,
  // ids up to 18: some orders have no customer
  customer_id: 1 + Math.floor(rand() * 18),
  order_date: `2026-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 10)}`,
  amount: rand() < 0.05 ? null : Math.round((rand() * 500 - 50) * 100) / 100,
  status: pick(STATUSES),
}));

const cell = (id: string, name: string, kind: CellKind, config: Record<string, unknown> = {}, source = '') =>
  ({ id: id as CellId, name, kind, source, config }) as CellSnapshot;

const SOURCES = [
  cell('s_orders', 'orders', 'source', { type: 'table', table: 'orders' }),
  cell('s_customers', 'customers', 'source', { type: 'table', table: 'customers' }),
];

const round2 = (x: number) => Math.round(x * 100) / 100;

let db: TestDb;
let dir: string;

beforeAll(async () => {
  db = await openTestDb();
  dir = mkdtempSync(join(tmpdir(), "pipebook compile it's-"));
  await db.run('CREATE TABLE customers (customer_id INTEGER, name VARCHAR, country VARCHAR)');
  await db.run(
    'CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, order_date DATE, amount DOUBLE, status VARCHAR)',
  );
  await db.run('CREATE TABLE y (k INTEGER)');
  await db.append(
    'customers',
    customers.map((c) => [c.customer_id, c.name, c.country]),
  );
  await db.append(
    'orders',
    orders.map((o) => [o.order_id, o.customer_id, o.order_date, o.amount, o.status]),
  );
});

afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(cells: CellSnapshot[], id: string, options?: CompileOptions): Promise<Row[]> {
  const compiled = compileCell(cells, id as CellId, 'duckdb', options);
  return db.query(compiled.sql);
}

describe('the demo notebook on DuckDB', () => {
  const cells = fileToState(demoNotebookFile()).cells;
  const clean = orders.filter(
    (o) => o.status !== null && o.status !== 'cancelled' && o.amount !== null && o.amount > 0,
  );
  const byId = new Map(customers.map((c) => [c.customer_id, c]));
  const joined = clean.filter((o) => byId.has(o.customer_id));
  const revenue = new Map<string | null, { revenue: number; order_count: number }>();
  for (const o of joined) {
    const country = byId.get(o.customer_id)!.country;
    const r = revenue.get(country) ?? { revenue: 0, order_count: 0 };
    r.revenue += o.amount!;
    r.order_count++;
    revenue.set(country, r);
  }
  const expectedRevenue = [...revenue].map(([country, r]) => ({
    country,
    revenue: round2(r.revenue),
    order_count: r.order_count,
  }));

  it('compiles and runs every runnable cell with the expected rows', async () => {
    const compiler = createCompiler(cells, 'duckdb');
    const cleanRows = await db.query(compiler.compile('demo_orders_clean' as CellId).sql);
    expect(cleanRows).toHaveLength(clean.length);
    expect(sortRows(cleanRows.map((r) => ({ order_id: r.order_id })))).toEqual(
      sortRows(clean.map((o) => ({ order_id: o.order_id }))),
    );

    const joinRows = await db.query(compiler.compile('demo_orders_customers' as CellId).sql);
    expect(Object.keys(joinRows[0])).toEqual(['order_id', 'customer_id', 'order_date', 'amount', 'name', 'country']);
    expect(sortRows(joinRows.map((r) => ({ id: r.order_id, name: r.name })))).toEqual(
      sortRows(joined.map((o) => ({ id: o.order_id, name: byId.get(o.customer_id)!.name }))),
    );

    const agg = await db.query(compiler.compile('demo_revenue_by_country' as CellId).sql);
    expect(sortRows(agg.map((r) => ({ ...r, revenue: round2(r.revenue as number) })))).toEqual(
      sortRows(expectedRevenue),
    );

    const top = await db.query(compiler.compile('demo_top_countries' as CellId).sql);
    const expectedTop = [...expectedRevenue].sort((a, b) => b.revenue - a.revenue).slice(0, 10);
    expect(top.map((r) => [r.country, round2(r.revenue as number), r.order_count])).toEqual(
      expectedTop.map((r) => [r.country, r.revenue, r.order_count]),
    );

    for (const source of ['demo_orders', 'demo_customers']) {
      const rows = await db.query(compiler.compile(source as CellId).sql);
      expect(rows).toHaveLength(source === 'demo_orders' ? orders.length : customers.length);
    }
  });

  it('gives the same rows after cells are renamed with the rename operation (references and qualifiers rewritten)', async () => {
    const file = demoNotebookFile();
    file.cells.push({
      id: 'demo_qualified',
      name: 'qualified',
      kind: 'sql',
      source:
        "SELECT orders_clean.order_id, revenue_by_country.country -- orders_clean\nFROM orders_clean, revenue_by_country\nWHERE orders_clean.amount > 100 AND revenue_by_country.country <> 'orders_clean'",
      config: {},
    });
    const doc = docFromFile(file);
    const before = compileCell(readCells(doc), 'demo_qualified' as CellId, 'duckdb');
    const top = compileCell(readCells(doc), 'demo_top_countries' as CellId, 'duckdb');
    renameCell(doc, 'demo_orders_clean' as CellId, 'select');
    renameCell(doc, 'demo_revenue_by_country' as CellId, 'Revenue');
    const cells = readCells(doc);
    expect(cells.find((c) => c.id === 'demo_qualified')?.source).toBe(
      'SELECT "select".order_id, Revenue.country -- orders_clean\nFROM "select", Revenue\nWHERE "select".amount > 100 AND Revenue.country <> \'orders_clean\'',
    );
    const after = compileCell(cells, 'demo_qualified' as CellId, 'duckdb');
    expect(after.sql).not.toBe(before.sql);
    expect(sortRows(await db.query(after.sql))).toEqual(sortRows(await db.query(before.sql)));
    const topAfter = compileCell(cells, 'demo_top_countries' as CellId, 'duckdb');
    expect(await db.query(topAfter.sql)).toEqual(await db.query(top.sql));
  });

  it('writes the target table with CREATE OR REPLACE TABLE', async () => {
    const compiled = compileCell(cells, 'demo_report' as CellId, 'duckdb');
    expect(compiled.target).toMatchObject({ type: 'table', table: 'revenue_by_country_report', mode: 'replace' });
    expect(compiled.chain.at(-1)).toBe('demo_report');
    for (let i = 0; i < 2; i++) await db.run(compileTargetStatement('duckdb', compiled.target!, compiled.sql));
    const rows = await db.query('SELECT * FROM revenue_by_country_report');
    expect(sortRows(rows.map((r) => ({ ...r, revenue: round2(r.revenue as number) })))).toEqual(
      sortRows(expectedRevenue),
    );
  });

  it('[C1] maps a DuckDB error in an upstream cell back to that cell and its own line and column', async () => {
    const broken = cells.map((c) =>
      c.id === 'demo_orders_clean'
        ? { ...c, source: 'SELECT order_id, customer_id, order_date, amount\nFROM orders\nWHERE  stauts <> 1' }
        : c,
    );
    const compiled = compileCell(broken, 'demo_top_countries' as CellId, 'duckdb');
    let message = '';
    try {
      await db.query(compiled.sql);
    } catch (e) {
      message = (e as Error).message;
    }
    const pos = duckdbErrorPosition(message);
    expect(pos, message).toBeDefined();
    expect(mapPosition(compiled.sourceMap, pos!.line, pos!.column)).toEqual({
      cellId: 'demo_orders_clean',
      line: 3,
      column: 8,
      generated: false,
    });
  });
});

describe('visual steps on DuckDB, with hostile names and values', () => {
  type Pred = (o: Order) => boolean;
  const filterCases: Array<{ conditions: unknown[]; combinator?: 'and' | 'or'; expect: Pred }> = [
    { conditions: [{ column: 'status', op: '=', value: 'paid' }], expect: (o) => o.status === 'paid' },
    {
      conditions: [{ column: 'status', op: '!=', value: 'paid' }],
      expect: (o) => o.status !== null && o.status !== 'paid',
    },
    { conditions: [{ column: 'amount', op: '<', value: 0 }], expect: (o) => o.amount !== null && o.amount < 0 },
    {
      conditions: [{ column: 'amount', op: '>=', value: 100.5 }],
      expect: (o) => o.amount !== null && o.amount >= 100.5,
    },
    { conditions: [{ column: 'status', op: 'is_null' }], expect: (o) => o.status === null },
    { conditions: [{ column: 'amount', op: 'is_not_null' }], expect: (o) => o.amount !== null },
    { conditions: [{ column: 'status', op: '=', value: null }], expect: (o) => o.status === null },
    {
      conditions: [{ column: 'status', op: 'in', value: ['paid', 'shipped', HOSTILE[0]] }],
      expect: (o) => o.status === 'paid' || o.status === 'shipped',
    },
    {
      conditions: [{ column: 'status', op: 'not_in', value: ['paid'] }],
      expect: (o) => o.status !== null && o.status !== 'paid',
    },
    {
      combinator: 'or',
      conditions: [
        { column: 'amount', op: '<=', value: 0 },
        { column: 'status', op: 'starts_with', value: 'canc' },
      ],
      expect: (o) => (o.amount !== null && o.amount <= 0) || (o.status?.startsWith('canc') ?? false),
    },
    {
      conditions: [
        { column: 'status', op: 'ends_with', value: 'ed' },
        { column: 'status', op: 'contains', value: 'ipp' },
      ],
      expect: (o) => (o.status?.endsWith('ed') ?? false) && (o.status?.includes('ipp') ?? false),
    },
  ];

  it.each(filterCases.map((c, i) => [i, c] as const))('filter case %i', async (_i, c) => {
    const cells = [
      ...SOURCES,
      cell('f', 'filtered', 'filter', {
        input: 's_orders',
        combinator: c.combinator ?? 'and',
        conditions: c.conditions,
      }),
    ];
    const rows = await run(cells, 'f');
    expect(rows.map((r) => r.order_id).sort((a, b) => (a as number) - (b as number))).toEqual(
      orders.filter(c.expect).map((o) => o.order_id),
    );
  });

  it.each(HOSTILE.map((h) => [h]))('matches the hostile value %j exactly and injects nothing', async (value) => {
    const cells = [
      ...SOURCES,
      cell('f1', 'by_name', 'filter', {
        input: 's_customers',
        combinator: 'and',
        conditions: [{ column: 'name', op: '=', value }],
      }),
      cell('f2', 'by_contains', 'filter', {
        input: 's_customers',
        combinator: 'and',
        conditions: [{ column: 'name', op: 'contains', value }],
      }),
    ];
    expect((await run(cells, 'f1')).map((r) => r.customer_id)).toEqual(
      customers.filter((c) => c.name === value).map((c) => c.customer_id),
    );
    expect((await run(cells, 'f2')).map((r) => r.customer_id)).toEqual(
      customers.filter((c) => c.name.includes(value)).map((c) => c.customer_id),
    );
    expect(await db.query('SELECT count(*) AS n FROM y')).toEqual([{ n: 0 }]);
  });

  it('selects, renames to hostile names and casts', async () => {
    const cells = [
      ...SOURCES,
      cell('sel', 'picked', 'select', {
        input: 's_orders',
        columns: [
          { column: 'order_id', as: HOSTILE[0] },
          { column: 'amount', cast: 'integer', as: 'a"b' },
          { column: 'order_date', cast: 'varchar' },
          { column: 'status', as: 'Zoë 😀' },
        ],
      }),
    ];
    const rows = await run(cells, 'sel');
    expect(Object.keys(rows[0])).toEqual([HOSTILE[0], 'a"b', 'order_date', 'Zoë 😀']);
    expect(rows.map((r) => [r[HOSTILE[0]], r['a"b'], r.order_date, r['Zoë 😀']])).toEqual(
      // DuckDB casts DOUBLE to INTEGER by rounding half away from zero
      orders.map((o) => [
        o.order_id,
        o.amount === null ? null : Math.sign(o.amount) * Math.round(Math.abs(o.amount)),
        o.order_date,
        o.status,
      ]),
    );
  });

  it.each(['inner', 'left', 'right', 'full'] as const)('joins (%s) with chosen columns', async (type) => {
    const cells = [
      ...SOURCES,
      cell('j', 'joined', 'join', {
        left: 's_orders',
        right: 's_customers',
        type,
        on: [{ left: 'customer_id', right: 'customer_id' }],
        columns: [
          { side: 'left', column: 'order_id' },
          { side: 'right', column: 'customer_id', as: 'cust' },
          { side: 'right', column: 'name', as: "it's" },
        ],
      }),
    ];
    const rows = await run(cells, 'j');
    const expected: Row[] = [];
    const matched = new Set<number>();
    for (const o of orders) {
      const c = customers.find((x) => x.customer_id === o.customer_id);
      if (c) {
        matched.add(c.customer_id);
        expected.push({ order_id: o.order_id, cust: c.customer_id, "it's": c.name });
      } else if (type === 'left' || type === 'full') expected.push({ order_id: o.order_id, cust: null, "it's": null });
    }
    if (type === 'right' || type === 'full')
      for (const c of customers)
        if (!matched.has(c.customer_id)) expected.push({ order_id: null, cust: c.customer_id, "it's": c.name });
    expect(sortRows(rows)).toEqual(sortRows(expected));
  });

  it('aggregates with every function, with and without groups', async () => {
    const cells = [
      ...SOURCES,
      cell('a', 'agg', 'aggregate', {
        input: 's_orders',
        groupBy: ['status'],
        measures: [
          { fn: 'count', as: 'n' },
          { fn: 'count', column: 'amount', as: 'n_amount' },
          { fn: 'count_distinct', column: 'customer_id', as: 'customers' },
          { fn: 'sum', column: 'amount', as: 'total' },
          { fn: 'avg', column: 'amount', as: 'mean' },
          { fn: 'min', column: 'amount', as: 'lo' },
          { fn: 'max', column: 'amount', as: "hi'; --" },
        ],
      }),
      cell('a2', 'agg_all', 'aggregate', { input: 's_orders', measures: [{ fn: 'count', as: 'n' }] }),
    ];
    const rows = await run(cells, 'a');
    const expected = [...new Set(orders.map((o) => o.status))].map((status) => {
      const group = orders.filter((o) => o.status === status);
      const amounts = group.map((o) => o.amount).filter((a): a is number => a !== null);
      const total = amounts.reduce((s, a) => s + a, 0);
      return {
        status,
        n: group.length,
        n_amount: amounts.length,
        customers: new Set(group.map((o) => o.customer_id)).size,
        total: round2(total),
        mean: round2(total / amounts.length),
        lo: Math.min(...amounts),
        "hi'; --": Math.max(...amounts),
      };
    });
    expect(
      sortRows(rows.map((r) => ({ ...r, total: round2(r.total as number), mean: round2(r.mean as number) }))),
    ).toEqual(sortRows(expected));
    expect(await run(cells, 'a2')).toEqual([{ n: orders.length }]);
  });

  it('sorts with directions and null placement, then limits with an offset', async () => {
    const cells = [
      ...SOURCES,
      cell('so', 'sorted', 'sort', {
        input: 's_orders',
        keys: [
          { column: 'amount', direction: 'desc', nulls: 'first' },
          { column: 'order_id', direction: 'asc' },
        ],
      }),
      cell('li', 'page', 'limit', { input: 'so', count: 7, offset: 3 }),
    ];
    const expected = [...orders].sort((a, b) => {
      if (a.amount === null || b.amount === null)
        return a.amount === b.amount ? a.order_id - b.order_id : a.amount === null ? -1 : 1;
      return b.amount - a.amount || a.order_id - b.order_id;
    });
    const sorted = await run(cells, 'so');
    expect(sorted.map((r) => r.order_id)).toEqual(expected.map((o) => o.order_id));
    const page = await run(cells, 'li');
    expect(page.map((r) => r.order_id)).toEqual(expected.slice(3, 10).map((o) => o.order_id));
  });

  it('unions by name, all or distinct', async () => {
    const cells = [
      ...SOURCES,
      cell('u1', 'a', 'sql', {}, "SELECT 1 AS x, 'p' AS y UNION ALL SELECT 2, 'q'"),
      cell('u2', 'b', 'sql', {}, "SELECT 'q' AS y, 2 AS x UNION ALL SELECT 'r', 3"),
      cell('ua', 'all_rows', 'union', { inputs: ['u1', 'u2'], distinct: false }),
      cell('ud', 'distinct_rows', 'union', { inputs: ['u1', 'u2'], distinct: true }),
    ];
    const all = [
      { x: 1, y: 'p' },
      { x: 2, y: 'q' },
      { x: 2, y: 'q' },
      { x: 3, y: 'r' },
    ];
    expect(sortRows(await run(cells, 'ua'))).toEqual(sortRows(all));
    expect(sortRows(await run(cells, 'ud'))).toEqual(sortRows([all[0], all[1], all[3]]));
  });

  it('joins with the default columns: all left columns, then right columns that are not join keys', async () => {
    const cells = [
      ...SOURCES,
      cell('j', 'joined', 'join', {
        left: 's_orders',
        right: 's_customers',
        type: 'inner',
        on: [{ left: 'customer_id', right: 'customer_id' }],
      }),
    ];
    const rows = await run(cells, 'j');
    expect(Object.keys(rows[0])).toEqual([
      'order_id',
      'customer_id',
      'order_date',
      'amount',
      'status',
      'name',
      'country',
    ]);
    expect(rows).toHaveLength(orders.filter((o) => o.customer_id <= customers.length).length);
  });
});

describe('quoting on DuckDB', () => {
  it.each([...HOSTILE, "'", '"', '\\', "''", '$$', '--', '/*'].map((v) => [v]))(
    'reads back %j as the same name and the same text',
    async (v) => {
      const rows = await db.query(`SELECT ${stringLiteral('duckdb', v)} AS ${quoteIdent('duckdb', v)}`);
      expect(rows).toEqual([{ [v]: v }]);
    },
  );
});

describe('sources and targets on DuckDB', () => {
  it('reads a table with a hostile schema and table name', async () => {
    await db.run('CREATE SCHEMA "sch""ema"');
    await db.run('CREATE TABLE "sch""ema"."we""ird tab\'le" ("a""b" INTEGER, "x\'; DROP TABLE y; --" VARCHAR)');
    await db.append(
      'we"ird tab\'le',
      [
        [1, 'one'],
        [2, HOSTILE[0]],
      ],
      'sch"ema',
    );
    const cells = [
      cell('src', 'weird', 'source', { type: 'table', schema: 'sch"ema', table: 'we"ird tab\'le' }),
      cell('f', 'only_two', 'filter', {
        input: 'src',
        combinator: 'and',
        conditions: [{ column: "x'; DROP TABLE y; --", op: '=', value: HOSTILE[0] }],
      }),
    ];
    expect(await run(cells, 'f')).toEqual([{ 'a"b': 2, "x'; DROP TABLE y; --": HOSTILE[0] }]);
  });

  it('quotes cell names that are not plain identifiers (should one get past validation) as CTE names', async () => {
    const cells = [
      cell('odd', 'we"ird 😀 x\'; --', 'source', { type: 'table', table: 'customers' }),
      cell('f', 'after', 'filter', {
        input: 'odd',
        combinator: 'and',
        conditions: [{ column: 'customer_id', op: '<=', value: 3 }],
      }),
    ];
    const compiled = compileCell(cells, 'f' as CellId, 'duckdb');
    expect(compiled.sql).toContain('"we""ird 😀 x\'; --" AS (');
    expect((await db.query(compiled.sql)).map((r) => r.customer_id)).toEqual([1, 2, 3]);
  });

  it.each(['csv', 'parquet', 'json'] as const)('reads a %s file through resolveFile', async (format) => {
    const path = join(dir, `it's data.${format}`);
    const rows = [
      { id: 1, label: "it's" },
      { id: 2, label: 'a"b' },
    ];
    if (format === 'csv') writeFileSync(path, `id,label\n1,it's\n2,"a""b"\n`);
    if (format === 'json') writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
    if (format === 'parquet') {
      const target = {
        cellId: 't' as CellId,
        input: 'x' as CellId,
        type: 'file' as const,
        path,
        format: 'parquet' as const,
      };
      await db.run(
        compileTargetStatement('duckdb', target, "SELECT 1 AS id, 'it''s' AS label UNION ALL SELECT 2, 'a\"b'"),
      );
    }
    const seen: string[] = [];
    const cells = [cell('file', 'data', 'source', { type: 'file', path: `uploads/x.${format}`, format })];
    const resolveFile = (p: string) => {
      seen.push(p);
      return path;
    };
    const compiled = compileCell(cells, 'file' as CellId, 'duckdb', { resolveFile });
    expect(seen).toEqual([`uploads/x.${format}`]);
    expect(sortRows(await db.query(compiled.sql))).toEqual(rows);
  });

  it('appends to a table target and writes file targets that read back the same', async () => {
    await db.run('CREATE TABLE "app""end" (order_id INTEGER, amount DOUBLE)');
    const cells = [
      ...SOURCES,
      cell('sel', 'picked', 'select', { input: 's_orders', columns: [{ column: 'order_id' }, { column: 'amount' }] }),
      cell('lim', 'few', 'limit', { input: 'sel', count: 5 }),
      cell('t1', 'append_it', 'target', { input: 'lim', type: 'table', table: 'app"end', mode: 'append' }),
    ];
    const t1 = compileCell(cells, 't1' as CellId, 'duckdb');
    await db.run(compileTargetStatement('duckdb', t1.target!, t1.sql));
    await db.run(compileTargetStatement('duckdb', t1.target!, t1.sql));
    expect(await db.query('SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM "app""end"')).toEqual([
      { n: 10, d: 5 },
    ]);
    for (const format of ['csv', 'parquet', 'json'] as const) {
      const path = join(dir, `out 'x'.${format}`);
      const withFile = [
        ...cells,
        cell('t2', 'to_file', 'target', { input: 'sel', type: 'file', path: 'ignored', format }),
      ];
      const compiled = compileCell(withFile, 't2' as CellId, 'duckdb');
      await db.run(
        compileTargetStatement('duckdb', { ...compiled.target!, path } as typeof compiled.target & {}, compiled.sql),
      );
      const reader = { csv: 'read_csv_auto', parquet: 'read_parquet', json: 'read_json_auto' }[format];
      const back = await db.query(
        `SELECT count(*) AS n, sum(order_id) AS s FROM ${reader}('${path.replaceAll("'", "''")}')`,
      );
      expect(back).toEqual([{ n: orders.length, s: orders.reduce((s, o) => s + o.order_id, 0) }]);
    }
  });
});

describe('SQL cells on DuckDB', () => {
  it('lets a CTE in the cell shadow a cell of the same name', async () => {
    const cells = [
      ...SOURCES,
      cell('q', 'q', 'sql', {}, 'WITH customers AS (SELECT 7 AS customer_id) SELECT * FROM customers'),
      cell('q2', 'q2', 'sql', {}, 'SELECT count(*) AS n FROM q'),
    ];
    expect(compileCell(cells, 'q' as CellId, 'duckdb').chain).toEqual(['q']);
    expect(await run(cells, 'q')).toEqual([{ customer_id: 7 }]);
    expect(await run(cells, 'q2')).toEqual([{ n: 1 }]);
  });

  it('reads quoted and reserved-word cell names, and drops a trailing semicolon and comment', async () => {
    const cells = [
      ...SOURCES,
      cell('r1', 'select', 'sql', {}, 'SELECT * FROM "ORDERS" WHERE amount > 400;  -- big ones'),
      cell('r2', 'order', 'sql', {}, 'FROM "select" SELECT order_id, customer_id'),
      cell('r3', 'final', 'sql', {}, 'SELECT count(*) AS n FROM "order" o JOIN Customers c USING (customer_id);\n;\n'),
    ];
    const big = orders.filter((o) => o.amount !== null && o.amount > 400);
    expect(sortRows(await run(cells, 'r2'))).toEqual(
      sortRows(big.map((o) => ({ order_id: o.order_id, customer_id: o.customer_id }))),
    );
    const compiled = compileCell(cells, 'r3' as CellId, 'duckdb');
    expect(compiled.chain).toEqual(['s_orders', 's_customers', 'r1', 'r2', 'r3']);
    expect(await db.query(compiled.sql)).toEqual([{ n: big.filter((o) => o.customer_id <= customers.length).length }]);
  });

  it('[C6] lets a SQL cell named like a warehouse table read that table while its readers read the cell', async () => {
    const cells = [
      cell('own', 'orders', 'sql', {}, 'SELECT * FROM orders WHERE amount > 400'),
      cell('reader', 'reader', 'sql', {}, 'SELECT count(*) AS n FROM orders'),
    ];
    const compiled = compileCell(cells, 'reader' as CellId, 'duckdb');
    expect(compiled.chain).toEqual(['own', 'reader']);
    expect(compiled.sql).toContain('"__pipebook_cell_orders" AS (\nSELECT * FROM orders WHERE amount > 400\n)');
    expect(await db.query(compiled.sql)).toEqual([
      { n: orders.filter((o) => o.amount !== null && o.amount > 400).length },
    ]);
    expect(compileCell(cells, 'reader' as CellId, 'snowflake').sql).toContain(
      '"ORDERS" AS (\nSELECT * FROM "__PIPEBOOK_CELL_ORDERS"\n)',
    );
  });

  it('reads SUMMARIZE, PIVOT, TABLE, VALUES and parenthesised queries as upstream cells', async () => {
    const cells = [
      ...SOURCES,
      cell('su', 'summary', 'sql', {}, 'SUMMARIZE orders'),
      cell(
        'pv',
        'pivoted',
        'sql',
        {},
        "PIVOT orders ON status IN ('paid', 'shipped') USING count(*) GROUP BY customer_id",
      ),
      cell('tb', 'tabled', 'sql', {}, 'TABLE customers'),
      cell('va', 'valued', 'sql', {}, "VALUES (1, 'a'), (2, 'b')"),
      cell('pa', 'parens', 'sql', {}, '(SELECT 1 AS one)'),
      cell(
        'all',
        'all_of_them',
        'sql',
        {},
        'SELECT (SELECT count(*) FROM summary) AS s, (SELECT sum(paid) FROM pivoted) AS p,\n' +
          '  (SELECT count(*) FROM tabled) AS t, (SELECT count(*) FROM valued) AS v, (SELECT one FROM parens) AS o',
      ),
    ];
    const summary = compileCell(cells, 'su' as CellId, 'duckdb');
    expect((await db.query(summary.sql)).map((r) => r.column_name)).toEqual([
      'order_id',
      'customer_id',
      'order_date',
      'amount',
      'status',
    ]);
    const compiled = compileCell(cells, 'all' as CellId, 'duckdb');
    expect(compiled.chain).toEqual(['s_orders', 's_customers', 'su', 'pv', 'tb', 'va', 'pa', 'all']);
    expect(await db.query(compiled.sql)).toEqual([
      {
        s: 5, // one row per column of orders
        p: orders.filter((o) => o.status === 'paid').length,
        t: customers.length,
        v: 2,
        o: 1,
      },
    ]);
  });

  it('[C2] places a cell that starts with WITH as a CTE and still runs it last', async () => {
    const cells = [
      ...SOURCES,
      cell(
        'w',
        'w',
        'sql',
        {},
        'WITH big AS (SELECT * FROM orders WHERE amount > 450)\nSELECT order_id FROM big ORDER BY order_id',
      ),
    ];
    const compiled = compileCell(cells, 'w' as CellId, 'duckdb');
    expect(compiled.sql.split('\n').at(-1)).toBe('SELECT * FROM "w"');
    expect((await db.query(compiled.sql)).map((r) => r.order_id)).toEqual(
      orders.filter((o) => o.amount !== null && o.amount > 450).map((o) => o.order_id),
    );
  });

  it('substitutes an already materialised upstream result with relationFor', async () => {
    const cells = [
      ...SOURCES,
      cell('up', 'expensive', 'sql', {}, 'SELECT order_id, amount FROM orders WHERE amount > 100'),
      cell('down', 'down', 'sql', {}, 'SELECT count(*) AS n, max(order_id) AS m FROM expensive'),
    ];
    const path = join(dir, 'expensive.parquet');
    const up = compileCell(cells, 'up' as CellId, 'duckdb');
    await db.run(`COPY (${up.sql}) TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
    // the relation filters the file further, so the rows show the statement read it rather than recompiling `up`
    const asked: string[] = [];
    const relationFor = (id: CellId) => {
      asked.push(id);
      return id === 'up' ? `read_parquet('${path.replaceAll("'", "''")}') WHERE order_id > 10` : undefined;
    };
    const compiled = compileCell(cells, 'down' as CellId, 'duckdb', { relationFor });
    expect(compiled.chain).toEqual(['down']);
    expect(compiled.substituted).toEqual(['up']);
    expect(asked).toEqual(['up']);
    const expected = orders.filter((o) => o.amount !== null && o.amount > 100 && o.order_id > 10);
    expect(await db.query(compiled.sql)).toEqual([
      { n: expected.length, m: Math.max(...expected.map((o) => o.order_id)) },
    ]);
  });

  it('[C3] refuses more than one statement, naming the line of the second', () => {
    const cells = [cell('m', 'm', 'sql', {}, 'SELECT 1;\n  DROP TABLE y')];
    expect(() => compileCell(cells, 'm' as CellId, 'duckdb')).toThrowError(
      expect.objectContaining({ code: 'sql_error', cellId: 'm', line: 2, column: 3 }) as unknown as Error,
    );
  });

  it('[C4] reports errors of an upstream cell against that cell', () => {
    const cells = [
      ...SOURCES,
      cell('bad', 'bad', 'filter', { input: 's_orders', conditions: [{ column: 'x', op: 'like' }] }),
      cell('after', 'after', 'sql', {}, 'SELECT * FROM bad'),
    ];
    let err: PipebookError | undefined;
    try {
      compileCell(cells, 'after' as CellId, 'duckdb');
    } catch (e) {
      err = e as PipebookError;
    }
    expect(err).toMatchObject({ code: 'invalid_config', cellId: 'bad' });
    expect(err?.message).toContain('conditions[0].op');
  });
});
