// Replicas apply random operations and exchange updates in a seeded random order; every replica must end equal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { PipebookError } from '../errors.ts';
import { buildGraph } from '../graph/dag.ts';
import type { CellId } from '../ids.ts';
import {
  addCell,
  deleteCell,
  duplicateCell,
  initNotebook,
  moveCell,
  renameCell,
  setConfig,
  setRun,
} from './operations.ts';
import { cellSourceText, getCellMap, readCells, readOrder, readRuns } from './read.ts';

type Op =
  | { t: 'add'; kind: 'sql' | 'filter'; name: string; at: number }
  | { t: 'move'; cell: number; to: number }
  | { t: 'delete'; cell: number }
  | { t: 'duplicate'; cell: number }
  | { t: 'rename'; cell: number; name: string }
  | { t: 'type'; cell: number; pos: number; text: string }
  | { t: 'erase'; cell: number; pos: number; len: number }
  | { t: 'config'; cell: number; key: 'a' | 'b'; value: number }
  | { t: 'run'; cell: number; rows: number };

const nameArb = fc.constantFrom('orders', 'customers', 'clean', 'joined', 'agg', 'report');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('add' as const),
    kind: fc.constantFrom('sql' as const, 'filter' as const),
    name: nameArb,
    at: fc.nat(10),
  }),
  fc.record({ t: fc.constant('move' as const), cell: fc.nat(20), to: fc.nat(10) }),
  fc.record({ t: fc.constant('delete' as const), cell: fc.nat(20) }),
  fc.record({ t: fc.constant('duplicate' as const), cell: fc.nat(20) }),
  fc.record({ t: fc.constant('rename' as const), cell: fc.nat(20), name: nameArb }),
  fc.record({ t: fc.constant('type' as const), cell: fc.nat(20), pos: fc.nat(40), text: fc.string({ maxLength: 4 }) }),
  fc.record({
    t: fc.constant('erase' as const),
    cell: fc.nat(20),
    pos: fc.nat(40),
    len: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    t: fc.constant('config' as const),
    cell: fc.nat(20),
    key: fc.constantFrom('a' as const, 'b' as const),
    value: fc.integer(),
  }),
  fc.record({ t: fc.constant('run' as const), cell: fc.nat(20), rows: fc.nat(1000) }),
);

function pick(doc: Y.Doc, i: number): CellId | undefined {
  const order = readOrder(doc);
  return order.length ? order[i % order.length] : undefined;
}

function apply(doc: Y.Doc, op: Op): void {
  try {
    switch (op.t) {
      case 'add':
        addCell(doc, { kind: op.kind, name: op.name, source: `SELECT * FROM ${op.name}` }, { index: op.at });
        return;
      case 'move': {
        const id = pick(doc, op.cell);
        if (id) moveCell(doc, id, op.to);
        return;
      }
      case 'delete': {
        const id = pick(doc, op.cell);
        if (id) deleteCell(doc, id);
        return;
      }
      case 'duplicate': {
        const id = pick(doc, op.cell);
        if (id) duplicateCell(doc, id);
        return;
      }
      case 'rename': {
        const id = pick(doc, op.cell);
        if (id) renameCell(doc, id, op.name);
        return;
      }
      case 'type': {
        const id = pick(doc, op.cell);
        if (!id) return;
        const text = cellSourceText(getCellMap(doc, id)!);
        text.insert(Math.min(op.pos, text.length), op.text);
        return;
      }
      case 'erase': {
        const id = pick(doc, op.cell);
        if (!id) return;
        const text = cellSourceText(getCellMap(doc, id)!);
        const pos = Math.min(op.pos, text.length);
        text.delete(pos, Math.min(op.len, text.length - pos));
        return;
      }
      case 'config': {
        const id = pick(doc, op.cell);
        if (id) setConfig(doc, id, { [op.key]: op.value });
        return;
      }
      case 'run': {
        const id = pick(doc, op.cell);
        if (id)
          setRun(doc, id, {
            status: 'done',
            runId: 'r',
            engine: 'duckdb',
            by: { id: 'k', name: 'K' },
            rowCount: op.rows,
          });
        return;
      }
    }
  } catch (e) {
    // Refused operations (a name taken locally) change nothing; anything else is a bug.
    if (!(e instanceof PipebookError)) throw e;
  }
}

/** Mulberry32: a seeded generator, so a failing delivery order can be replayed from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Net {
  docs: Y.Doc[];
  /** inbox[i] holds updates not yet delivered to replica i. */
  inbox: Uint8Array[][];
}

function network(n: number): Net {
  const base = new Y.Doc();
  initNotebook(base, { title: 'fuzz' });
  const seed = Y.encodeStateAsUpdate(base);
  const docs = Array.from({ length: n }, () => {
    const d = new Y.Doc();
    Y.applyUpdate(d, seed);
    return d;
  });
  const inbox: Uint8Array[][] = docs.map(() => []);
  docs.forEach((d, i) => {
    d.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === 'net') return;
      docs.forEach((_, j) => {
        if (j !== i) inbox[j].push(u);
      });
    });
  });
  return { docs, inbox };
}

function deliverOne(net: Net, next: () => number): boolean {
  const waiting = net.inbox.map((q, i) => (q.length ? i : -1)).filter((i) => i >= 0);
  if (!waiting.length) return false;
  const i = waiting[Math.floor(next() * waiting.length)];
  const q = net.inbox[i];
  // Out of order on purpose: Yjs must hold updates whose dependencies have not arrived yet.
  const [u] = q.splice(Math.floor(next() * q.length), 1);
  Y.applyUpdate(net.docs[i], u, 'net');
  return true;
}

function view(doc: Y.Doc) {
  const g = buildGraph(readCells(doc));
  return {
    order: readOrder(doc),
    cells: readCells(doc),
    runs: readRuns(doc),
    graph: { order: g.order, upstream: [...g.upstream], errors: [...g.errors], cycles: g.cycles },
  };
}

describe('convergence under concurrent operations', () => {
  it('2-3 replicas with random operations and random delivery converge to byte-identical state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 3 }),
        fc.array(fc.tuple(fc.nat(2), opArb), { minLength: 1, maxLength: 40 }),
        fc.integer(),
        (n, steps, seed) => {
          const net = network(n);
          const next = rng(seed);
          for (const [who, op] of steps) {
            apply(net.docs[who % n], op);
            // Deliver a random number of pending updates between operations, so operations interleave with sync.
            const k = Math.floor(next() * 3);
            for (let j = 0; j < k; j++) deliverOne(net, next);
          }
          while (deliverOne(net, next));
          const first = view(net.docs[0]);
          const bytes = Y.encodeStateAsUpdate(net.docs[0]);
          for (const d of net.docs.slice(1)) {
            expect(view(d)).toEqual(first);
            expect(Buffer.from(Y.encodeStateAsUpdate(d)).equals(Buffer.from(bytes))).toBe(true);
          }
          // Every cell appears exactly once in the resolved order.
          expect(new Set(first.order).size).toBe(first.cells.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a text edit made concurrently with a move of the same cell survives', () => {
    const net = network(2);
    const [a, b] = net.docs;
    const ids = ['x', 'y', 'z'].map((name) => addCell(a, { kind: 'sql', name, source: 'SELECT 1' }));
    while (deliverOne(net, rng(1)));
    moveCell(a, ids[0], 2);
    cellSourceText(getCellMap(b, ids[0])!).insert(8, ' AS one');
    while (deliverOne(net, rng(2)));
    for (const d of net.docs) {
      expect(readOrder(d)).toEqual([ids[1], ids[2], ids[0]]);
      expect(readCells(d)[2]).toMatchObject({ id: ids[0], name: 'x', source: 'SELECT 1 AS one' });
    }
  });

  it('two people moving the same cell at once leave it in one place', () => {
    const net = network(2);
    const [a, b] = net.docs;
    const ids = ['p', 'q', 'r', 's'].map((name) => addCell(a, { kind: 'sql', name }));
    while (deliverOne(net, rng(3)));
    moveCell(a, ids[0], 3);
    moveCell(b, ids[0], 1);
    while (deliverOne(net, rng(4)));
    expect(readOrder(a)).toEqual(readOrder(b));
    expect(readOrder(a).filter((id) => id === ids[0])).toHaveLength(1);
    expect(readOrder(a)).toHaveLength(4);
  });

  it('a rename rewrites references while someone else edits the reading cell, and both changes survive', () => {
    const net = network(2);
    const [a, b] = net.docs;
    const orders = addCell(a, { kind: 'sql', name: 'orders', source: 'SELECT 1 AS amount' });
    const clean = addCell(a, {
      kind: 'sql',
      name: 'clean',
      source: "SELECT amount FROM orders -- orders\nWHERE 'orders' <> ''",
    });
    while (deliverOne(net, rng(5)));
    renameCell(a, orders, 'orders_v2');
    cellSourceText(getCellMap(b, clean)!).insert(0, '/* checked */ ');
    while (deliverOne(net, rng(6)));
    for (const d of net.docs) {
      // Only the real reference changed; the comment and the string literal still say orders.
      expect(readCells(d)[1].source).toBe("/* checked */ SELECT amount FROM orders_v2 -- orders\nWHERE 'orders' <> ''");
      const g = buildGraph(readCells(d));
      expect(g.upstream.get(clean)).toEqual([orders]);
      expect(g.errors.size).toBe(0);
    }
  });
});
