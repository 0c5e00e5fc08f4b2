// Random pipelines of visual steps (seeded, replayable with PIPELINE_SEED), each cell compiled and run on DuckDB and
// compared with a small reference evaluator written here in JavaScript, with SQL's NULL rules: the compiled SQL must
// mean what the step's config says, for every combination the generator reaches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellId } from '../ids.ts';
import type { CellSnapshot, FilterOp } from '../notebook/schema.ts';
import { createCompiler } from './compile.ts';
import { openTestDb, type Row, seeded, sortRows, type TestDb } from './testing-duckdb.ts';

type Value = string | number | null;
type Type = 'int' | 'text';
interface Rel {
  id: CellId;
  columns: Array<{ name: string; type: Type }>;
  rows: Row[];
  /** `id` is unique in every row: sorting by it last gives one order. */
  uniqueId: boolean;
  /** Rows come out in a defined order (the cell sorts). */
  ordered: boolean;
}

const TAGS = ["x'; DROP TABLE y; --", 'a"b', 'C:\\new\\', 'Zoë 😀', 'plain', 'pla', ''];
const FACT_COLUMNS: Rel['columns'] = [
  { name: 'id', type: 'int' },
  { name: 'k', type: 'int' },
  { name: 'amount', type: 'int' },
  { name: "tag 'quoted'", type: 'text' },
];

/** SQL comparison of two non-null values: numbers by value, text by UTF-8 bytes (DuckDB's default collation). */
function cmp(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

/** SQL three-valued logic: true, false or null (unknown). */
type Truth = boolean | null;
const and = (a: Truth, b: Truth): Truth =>
  a === false || b === false ? false : a === null || b === null ? null : true;
const or = (a: Truth, b: Truth): Truth => (a === true || b === true ? true : a === null || b === null ? null : false);

function condition(op: FilterOp, v: Value, value: unknown): Truth {
  switch (op) {
    case 'is_null':
      return v === null;
    case 'is_not_null':
      return v !== null;
    case 'in':
    case 'not_in': {
      if (v === null) return null;
      const list = value as Value[];
      const hit = list.some((x) => x !== null && cmp(v, x) === 0);
      if (hit) return op === 'in';
      if (list.includes(null)) return null;
      return op === 'not_in';
    }
    default: {
      if (v === null || value === null) return null;
      const c = cmp(v, value as Value);
      const s = String(v);
      const t = String(value);
      switch (op) {
        case '=':
          return c === 0;
        case '!=':
          return c !== 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        case '>=':
          return c >= 0;
        case 'contains':
          return s.includes(t);
        case 'starts_with':
          return s.startsWith(t);
        case 'ends_with':
          return s.endsWith(t);
      }
    }
  }
}

function generate(seed: number, facts: Row[], dims: Row[]) {
  const rand = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const cells: CellSnapshot[] = [
    { id: 'src_facts' as CellId, name: 'facts', kind: 'source', source: '', config: { type: 'table', table: 'facts' } },
    { id: 'src_dims' as CellId, name: 'dims', kind: 'source', source: '', config: { type: 'table', table: 'dims' } },
  ];
  const rels: Rel[] = [
    { id: 'src_facts' as CellId, columns: FACT_COLUMNS, rows: facts, uniqueId: true, ordered: false },
  ];
  const dimRel: Rel = {
    id: 'src_dims' as CellId,
    columns: [
      { name: 'k', type: 'int' },
      { name: 'label', type: 'text' },
    ],
    rows: dims,
    uniqueId: false,
    ordered: false,
  };
  const add = (kind: CellSnapshot['kind'], config: Record<string, unknown>, rel: Omit<Rel, 'id'>) => {
    const id = `c${cells.length}` as CellId;
    cells.push({ id, name: `step_${cells.length}`, kind, source: '', config });
    rels.push({ ...rel, id });
  };
  const literalFor = (type: Type): Value =>
    type === 'int' ? Math.floor(rand() * 12) - 2 : pick([...TAGS, 'pl', 'b', 'Z']);

  for (let step = 0; step < 10; step++) {
    const factLike = rels.filter((r) => r.columns.some((c) => c.name === 'id'));
    const input = pick(factLike.length ? factLike : rels);
    const kind = pick(['filter', 'filter', 'sort', 'limit', 'join', 'aggregate', 'union', 'select'] as const);
    if (kind === 'filter') {
      const combinator = pick(['and', 'or'] as const);
      const conditions = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => {
        const col = pick(input.columns);
        const ops: FilterOp[] =
          col.type === 'int'
            ? ['=', '!=', '<', '<=', '>', '>=', 'in', 'not_in', 'is_null', 'is_not_null']
            : ['=', '!=', '<', '>=', 'contains', 'starts_with', 'ends_with', 'in', 'not_in', 'is_null'];
        const op = pick(ops);
        const value =
          op === 'in' || op === 'not_in'
            ? Array.from({ length: 1 + Math.floor(rand() * 3) }, () => (rand() < 0.15 ? null : literalFor(col.type)))
            : op === 'is_null' || op === 'is_not_null'
              ? undefined
              : literalFor(col.type);
        return { column: col.name, op, ...(value === undefined ? {} : { value }) };
      });
      const rows = input.rows.filter((r) => {
        let t: Truth = combinator === 'and';
        for (const c of conditions) {
          const x = condition(c.op, r[c.column] as Value, c.value);
          t = combinator === 'and' ? and(t, x) : or(t, x);
        }
        return t === true;
      });
      add('filter', { input: input.id, combinator, conditions }, { ...input, rows, ordered: false });
    } else if (kind === 'sort' || (kind === 'limit' && !(input.ordered && input.uniqueId))) {
      const col = pick(input.columns);
      const direction = pick(['asc', 'desc'] as const);
      const nulls = pick(['first', 'last'] as const);
      const keys = [{ column: col.name, direction, nulls }];
      if (input.uniqueId && col.name !== 'id') keys.push({ column: 'id', direction: 'asc', nulls: 'last' });
      const rows = [...input.rows].sort((a, b) => {
        for (const k of keys) {
          const x = a[k.column] as Value;
          const y = b[k.column] as Value;
          if (x === null || y === null) {
            if (x === y) continue;
            return (x === null) === (k.nulls === 'first') ? -1 : 1;
          }
          const c = cmp(x, y);
          if (c !== 0) return k.direction === 'asc' ? c : -c;
        }
        return 0;
      });
      add('sort', { input: input.id, keys }, { ...input, rows, ordered: input.uniqueId });
    } else if (kind === 'limit') {
      const count = Math.floor(rand() * 8);
      const offset = Math.floor(rand() * 4);
      add('limit', { input: input.id, count, offset }, { ...input, rows: input.rows.slice(offset, offset + count) });
    } else if (
      kind === 'join' &&
      input.columns.some((c) => c.name === 'k') &&
      !input.columns.some((c) => c.name === 'label')
    ) {
      const type = pick(['inner', 'left'] as const);
      const rows: Row[] = [];
      for (const r of input.rows) {
        const matches = dimRel.rows.filter((d) => r.k !== null && d.k === r.k);
        for (const d of matches) rows.push({ ...r, label: d.label });
        if (matches.length === 0 && type === 'left') rows.push({ ...r, label: null });
      }
      const columns = [
        ...input.columns.map((c) => ({ side: 'left', column: c.name })),
        { side: 'right', column: 'label' },
      ];
      add(
        'join',
        { left: input.id, right: dimRel.id, type, on: [{ left: 'k', right: 'k' }], columns },
        {
          columns: [...input.columns, { name: 'label', type: 'text' }],
          rows,
          uniqueId: input.uniqueId,
          ordered: false,
        },
      );
    } else if (kind === 'aggregate') {
      const group = pick(input.columns.filter((c) => c.name !== 'id'));
      const num = input.columns.find((c) => c.name === 'amount');
      const groups = new Map<string, Row[]>();
      for (const r of input.rows) {
        const key = JSON.stringify(r[group.name]);
        const list = groups.get(key);
        if (list) list.push(r);
        else groups.set(key, [r]);
      }
      const rows: Row[] = [...groups.values()].map((g) => {
        const amounts = num ? g.map((r) => r.amount).filter((x): x is number => x !== null) : [];
        return {
          [group.name]: g[0][group.name],
          n: g.length,
          distinct_ids: new Set(g.map((r) => r.id).filter((x) => x !== null)).size,
          ...(num
            ? {
                total: amounts.length ? amounts.reduce((s, x) => s + x, 0) : null,
                top: amounts.length ? Math.max(...amounts) : null,
              }
            : {}),
        };
      });
      const measures = [
        { fn: 'count', as: 'n' },
        { fn: 'count_distinct', column: 'id', as: 'distinct_ids' },
        ...(num
          ? [
              { fn: 'sum', column: 'amount', as: 'total' },
              { fn: 'max', column: 'amount', as: 'top' },
            ]
          : []),
      ];
      add(
        'aggregate',
        { input: input.id, groupBy: [group.name], measures },
        {
          columns: [group, { name: 'n', type: 'int' }],
          rows,
          uniqueId: false,
          ordered: false,
        },
      );
    } else if (kind === 'union') {
      const same = rels.filter((r) => JSON.stringify(r.columns) === JSON.stringify(input.columns));
      const other = pick(same);
      const distinct = rand() < 0.5;
      let rows = [...input.rows, ...other.rows];
      if (distinct) {
        const seen = new Set<string>();
        rows = rows.filter((r) => {
          const key = JSON.stringify(input.columns.map((c) => r[c.name]));
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
      }
      add('union', { inputs: [input.id, other.id], distinct }, { ...input, rows, uniqueId: false, ordered: false });
    } else {
      // select: the same columns in another order (names unchanged so later steps still apply)
      const columns = [...input.columns].sort(() => rand() - 0.5);
      add(
        'select',
        { input: input.id, columns: columns.map((c) => ({ column: c.name })) },
        { ...input, columns, ordered: false },
      );
    }
  }
  return { cells, rels };
}

let db: TestDb;
const facts: Row[] = [];
const dims: Row[] = [];

beforeAll(async () => {
  db = await openTestDb();
  const rand = seeded(99);
  for (let i = 1; i <= 60; i++) {
    facts.push({
      id: i,
      k: rand() < 0.1 ? null : 1 + Math.floor(rand() * 10),
      amount: rand() < 0.15 ? null : Math.floor(rand() * 12) - 2,
      "tag 'quoted'": rand() < 0.1 ? null : TAGS[Math.floor(rand() * TAGS.length)],
    });
  }
  for (let k = 1; k <= 8; k++) dims.push({ k, label: k % 3 === 0 ? null : `label ${k}` });
  await db.run(`CREATE TABLE facts (id INTEGER, k INTEGER, amount INTEGER, "tag 'quoted'" VARCHAR)`);
  await db.run('CREATE TABLE dims (k INTEGER, label VARCHAR)');
  await db.append(
    'facts',
    facts.map((r) => [r.id, r.k, r.amount, r["tag 'quoted'"]]),
  );
  await db.append(
    'dims',
    dims.map((r) => [r.k, r.label]),
  );
});
afterAll(() => db?.close());

describe('random visual pipelines on DuckDB', () => {
  const base = Number(process.env.PIPELINE_SEED ?? 1);
  it.each(Array.from({ length: 24 }, (_, i) => [base + i]))(
    'pipeline %i: every cell gives the rows of the reference evaluator',
    async (seed) => {
      const { cells, rels } = generate(seed, facts, dims);
      const compiler = createCompiler(cells, 'duckdb');
      for (const rel of rels) {
        const { sql } = compiler.compile(rel.id);
        const got = await db.query(sql);
        const want = rel.rows.map((r) => {
          const out: Row = {};
          for (const k of Object.keys(got[0] ?? r)) out[k] = r[k] ?? null;
          return out;
        });
        if (rel.ordered) expect(got, sql).toEqual(want);
        else expect(sortRows(got), sql).toEqual(sortRows(want));
      }
    },
  );
});
