// Input hashes: a fingerprint of what a cell's result depends on, its own definition plus the hashes of the cells it
// reads (a Merkle chain), so the kernel can skip a cell whose inputs did not change and the client can mark cells
// whose last run used other inputs as stale. Unrelated cells never change a cell's hash, and renaming a cell does not
// either (references are hashed by cell id). Synchronous and identical in Node and browsers.
import { PipebookError } from '../errors.ts';
import { buildGraph, type NotebookGraph } from '../graph/dag.ts';
import { analyzeSql } from '../graph/references.ts';
import type { CellId } from '../ids.ts';
import type { CellSnapshot } from '../notebook/schema.ts';
import type { Dialect } from './dialect.ts';
import { compileGenerated, isGeneratedKind } from './visual.ts';

const encoder = new TextEncoder();

/** 64-bit FNV-1a over the UTF-8 bytes of `text`, as 16 hex digits; 16-bit limbs keep every step exact in doubles. */
export function fnv1a64(text: string): string {
  const bytes = encoder.encode(text);
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    // multiply by the FNV prime 2^40 + 0x1b3
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3;
    let t3 = h3 * 0x1b3;
    t2 += h0 << 8;
    t3 += h1 << 8;
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  const hex = (x: number) => x.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}

/** Stable JSON: object keys sorted, so two replicas with the same config give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What a cell's own definition contributes to its hash (names of other cells replaced by their ids). */
function ownForm(cell: CellSnapshot, graph: NotebookGraph, dialect: Dialect): string {
  switch (cell.kind) {
    case 'sql': {
      // References, and the column qualifiers a rename rewrites with them, stand for the cell id.
      const a = analyzeSql(cell.source, dialect);
      const idOf = (name: string) => {
        const ids = graph.byName.get(name.toLowerCase());
        return ids?.length === 1 ? ids[0] : undefined;
      };
      const edits = a.references.filter((r) => idOf(r.name) !== undefined).map((r) => ({ ...r, id: idOf(r.name)! }));
      const read = new Set(edits.map((e) => e.id));
      for (const k of a.qualifiers) {
        const t = a.tokens[k];
        const id = idOf(t.value);
        if (id !== undefined && read.has(id)) edits.push({ name: t.value, start: t.start, end: t.end, id });
      }
      let text = cell.source;
      for (const e of edits.sort((x, y) => y.start - x.start)) {
        text = `${text.slice(0, e.start)}\u0001${e.id}\u0001${text.slice(e.end)}`;
      }
      return text;
    }
    case 'target':
      return canonicalJson(cell.config);
    case 'markdown':
      return '';
    case 'pyspark':
      return cell.source;
    default:
      if (!isGeneratedKind(cell.kind)) return canonicalJson(cell.config);
      try {
        return compileGenerated(cell, {
          dialect,
          inputName: (id) => `\u0001${id}\u0001`,
          resolveFile: (path) => path,
        });
      } catch (e) {
        if (e instanceof PipebookError) return `error:${e.code}:${e.message}`;
        throw e;
      }
  }
}

/**
 * The input hash of every cell for `dialect`: FNV-1a 64 of its kind, engine, own form and the hashes of its direct
 * inputs. File sources hash their path and format, not the file's bytes.
 */
export function inputHashes(
  cells: readonly CellSnapshot[],
  dialect: Dialect,
  options: { graph?: NotebookGraph } = {},
): Map<CellId, string> {
  const graph = options.graph ?? buildGraph(cells, dialect);
  const out = new Map<CellId, string>();
  for (const id of graph.order) {
    const cell = graph.byId.get(id)!;
    const ups = (graph.upstream.get(id) ?? []).map((u) => out.get(u) ?? 'cycle');
    out.set(id, fnv1a64([dialect, cell.kind, cell.engine ?? '', ownForm(cell, graph, dialect), ...ups].join('\u0000')));
  }
  return out;
}
