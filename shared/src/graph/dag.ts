// The dependency graph of a notebook: which cell reads which. SQL cells read cells by name (found by the SQL
// tokenizer), visual steps and targets by cell id in their config, PySpark cells by name (see pythonReferences).
// Problems are attached to the cell that has them and never repaired here: a duplicate name stays a duplicate.
// PySpark references are in python.ts, cycle naming in cycles.ts.
import type { Dialect } from '../compile/dialect.ts';
import type { CellId } from '../ids.ts';
import { type CellSnapshot, producesRelation } from '../notebook/schema.ts';
import { findCycles } from './cycles.ts';
import { pythonReferences } from './python.ts';

import { findReferences } from './references.ts';
import { lineColumnAt } from './tokenize.ts';

export type GraphErrorCode = 'cycle' | 'unknown_reference' | 'duplicate_name' | 'invalid_config';

export interface GraphError {
  code: GraphErrorCode;
  message: string;
  /** 1-based position in the cell's own source, for errors found in its text. */
  line?: number;
  column?: number;
  /** For cycles: the cell names around the cycle, first name repeated at the end (`a -> b -> a`). */
  cycle?: string[];
}

export interface NotebookGraph {
  /** Cells in display order. */
  cells: CellSnapshot[];
  byId: Map<CellId, CellSnapshot>;
  /** Lower-cased name -> cells with that name (more than one only when names are duplicated). */
  byName: Map<string, CellId[]>;
  /** Direct inputs of each cell, in the order the cell mentions them, without repeats. */
  upstream: Map<CellId, CellId[]>;
  /** Direct readers of each cell, in display order. */
  downstream: Map<CellId, CellId[]>;
  /**
   * Every cell, inputs before readers. Ties go to source cells first, then display order, so the order is the same
   * on every replica. Cells on or after a cycle come last, in display order.
   */
  order: CellId[];
  /** Position of each cell in `order`. */
  rank: Map<CellId, number>;
  errors: Map<CellId, GraphError[]>;
  /** Each cycle once, as cell ids starting at its first cell in display order. */
  cycles: CellId[][];
}

/** Config fields that hold input cell ids, per kind. */
export function configInputs(cell: CellSnapshot): { field: string; ids: unknown[] }[] {
  const c = cell.config;
  switch (cell.kind) {
    case 'filter':
    case 'select':
    case 'aggregate':
    case 'sort':
    case 'limit':
    case 'target':
      return [{ field: 'input', ids: [c.input] }];
    case 'join':
      return [
        { field: 'left', ids: [c.left] },
        { field: 'right', ids: [c.right] },
      ];
    case 'union':
      return [{ field: 'inputs', ids: Array.isArray(c.inputs) ? c.inputs : [c.inputs] }];
    case 'source':
    case 'sql':
    case 'markdown':
    case 'pyspark':
      return [];
  }
}

function addError(errors: Map<CellId, GraphError[]>, id: CellId, e: GraphError): void {
  const list = errors.get(id);
  if (list) list.push(e);
  else errors.set(id, [e]);
}

/** A binary min-heap of numbers (cell ranks for Kahn's algorithm). */
class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= x) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let v = last;
        if (l < a.length && a[l] < v) {
          m = l;
          v = a[l];
        }
        if (r < a.length && a[r] < v) m = r;
        if (m === i) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Builds the graph. `dialect` only changes how SQL is tokenized (quote rules); references mean the same in every
 * dialect.
 */
export function buildGraph(cells: readonly CellSnapshot[], dialect: Dialect = 'duckdb'): NotebookGraph {
  const byId = new Map<CellId, CellSnapshot>();
  const byName = new Map<string, CellId[]>();
  const errors = new Map<CellId, GraphError[]>();
  const list: CellSnapshot[] = [];
  for (const c of cells) {
    if (byId.has(c.id)) continue;
    byId.set(c.id, c);
    list.push(c);
    const key = c.name.toLowerCase();
    const same = byName.get(key);
    if (same) same.push(c.id);
    else byName.set(key, [c.id]);
  }
  for (const [, ids] of byName) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      const c = byId.get(id)!;
      addError(errors, id, {
        code: 'duplicate_name',
        message: `${ids.length} cells are named "${c.name}": rename all but one so other cells can read it.`,
      });
    }
  }

  const upstream = new Map<CellId, CellId[]>();
  const downstream = new Map<CellId, CellId[]>();
  for (const c of list) downstream.set(c.id, []);

  for (const c of list) {
    const ups: CellId[] = [];
    const add = (id: CellId) => {
      if (id !== c.id && !ups.includes(id)) ups.push(id);
    };
    const byNameRef = (name: string, offset: number | undefined, what: string) => {
      const ids = byName.get(name.toLowerCase());
      if (!ids) return;
      if (ids.length === 1 && ids[0] === c.id) return;
      const pos = offset === undefined ? undefined : lineColumnAt(c.source, offset);
      if (ids.length > 1) {
        addError(errors, c.id, {
          code: 'duplicate_name',
          message: `"${name}" is ambiguous: ${ids.length} cells have that name.`,
          ...pos,
        });
        return;
      }
      const target = byId.get(ids[0])!;
      if (target.id === c.id) return;
      if (!producesRelation(target.kind)) {
        addError(errors, c.id, {
          code: 'unknown_reference',
          message: `${what} reads "${name}", which is a ${target.kind} cell and has no result to read.`,
          ...pos,
        });
        return;
      }
      add(target.id);
    };
    if (c.kind === 'sql') {
      for (const r of findReferences(c.source, dialect)) byNameRef(r.name, r.start, 'This query');
    } else if (c.kind === 'pyspark') {
      for (const r of pythonReferences(c.source))
        if (byName.has(r.name.toLowerCase())) byNameRef(r.name, r.start, 'This code');
    } else {
      for (const { field, ids } of configInputs(c)) {
        if (ids.length === 0 || (field === 'inputs' && !Array.isArray(c.config.inputs))) {
          addError(errors, c.id, { code: 'invalid_config', message: `Choose the input cells (${field}).` });
          continue;
        }
        for (const raw of ids) {
          if (raw === undefined || raw === null || raw === '') {
            addError(errors, c.id, { code: 'invalid_config', message: `Choose an input cell (${field}).` });
            continue;
          }
          if (typeof raw !== 'string') {
            addError(errors, c.id, { code: 'invalid_config', message: `${field} must be a cell id.` });
            continue;
          }
          const target = byId.get(raw as CellId);
          if (!target) {
            addError(errors, c.id, {
              code: 'unknown_reference',
              message: `The input cell (${field}) no longer exists; choose another.`,
            });
            continue;
          }
          if (target.id === c.id) {
            addError(errors, c.id, {
              code: 'cycle',
              message: `This cell reads itself (${field}): ${c.name} -> ${c.name}.`,
              cycle: [c.name, c.name],
            });
            continue;
          }
          if (!producesRelation(target.kind)) {
            addError(errors, c.id, {
              code: 'unknown_reference',
              message: `The input cell "${target.name}" (${field}) is a ${target.kind} cell and has no result to read.`,
            });
            continue;
          }
          add(target.id);
        }
      }
    }
    upstream.set(c.id, ups);
    for (const u of ups) downstream.get(u)!.push(c.id);
  }

  // Kahn's algorithm; priority = (not a source, display index).
  const display = new Map<CellId, number>();
  for (const [i, c] of list.entries()) display.set(c.id, i);
  const prio = (c: CellSnapshot, i: number) => (c.kind === 'source' ? i : list.length + i);
  const byPrio = new Map<number, CellId>();
  for (const [i, c] of list.entries()) byPrio.set(prio(c, i), c.id);
  const indegree = new Map<CellId, number>();
  const heap = new MinHeap();
  list.forEach((c, i) => {
    const d = upstream.get(c.id)!.length;
    indegree.set(c.id, d);
    if (d === 0) heap.push(prio(c, i));
  });
  const order: CellId[] = [];
  while (heap.size > 0) {
    const id = byPrio.get(heap.pop())!;
    order.push(id);
    for (const d of downstream.get(id)!) {
      const left = indegree.get(d)! - 1;
      indegree.set(d, left);
      if (left === 0) heap.push(prio(byId.get(d)!, display.get(d)!));
    }
  }
  const cycles: CellId[][] = [];
  if (order.length < list.length) {
    const placed = new Set(order);
    const rest = list.filter((c) => !placed.has(c.id)).map((c) => c.id);
    for (const cycle of findCycles(rest, upstream, downstream, display)) {
      cycles.push(cycle);
      const names = [...cycle, cycle[0]].map((id) => byId.get(id)!.name);
      // A long loop is named by its ends, so the message stays readable (the full list is in `cycle`).
      const shown =
        names.length <= 12
          ? names.join(' -> ')
          : `${names.slice(0, 6).join(' -> ')} -> ... -> ${names.slice(-3).join(' -> ')}`;
      const message = `These cells read each other in a circle: ${shown}.`;
      for (const id of cycle) addError(errors, id, { code: 'cycle', message, cycle: names });
    }
    order.push(...rest);
  }
  const rank = new Map<CellId, number>();
  for (const [i, id] of order.entries()) rank.set(id, i);
  return { cells: list, byId, byName, upstream, downstream, order, rank, errors, cycles };
}

/** Every cell `id` reads, directly or not, inputs before readers (in graph order). */
export function upstreamClosure(graph: NotebookGraph, id: CellId): CellId[] {
  return closure(graph, id, graph.upstream);
}

/** Every cell that reads `id`, directly or not, in graph order. */
export function downstreamClosure(graph: NotebookGraph, id: CellId): CellId[] {
  return closure(graph, id, graph.downstream);
}

function closure(graph: NotebookGraph, id: CellId, edges: Map<CellId, CellId[]>): CellId[] {
  const seen = new Set<CellId>();
  const stack = [...(edges.get(id) ?? [])];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || v === id) continue;
    seen.add(v);
    for (const w of edges.get(v) ?? []) if (!seen.has(w)) stack.push(w);
  }
  return [...seen].sort((a, b) => graph.rank.get(a)! - graph.rank.get(b)!);
}

/** Errors of a cell and of everything it reads (a cell cannot run while an input is broken). */
export function blockingErrors(graph: NotebookGraph, id: CellId): Array<{ cellId: CellId; error: GraphError }> {
  const out: Array<{ cellId: CellId; error: GraphError }> = [];
  for (const c of [...upstreamClosure(graph, id), id]) {
    for (const error of graph.errors.get(c) ?? []) out.push({ cellId: c, error });
  }
  return out;
}
