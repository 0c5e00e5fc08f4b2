// Cycles in the cell graph, each named as a walk in the direction data flows, so the message reads `a -> b -> a`.
import type { CellId } from '../ids.ts';

/**
 * The cycles among cells Kahn's algorithm could not place (strongly connected components with more than one cell,
 * found with Tarjan's algorithm), each as a path through the component starting at its first cell in display order.
 */
export function findCycles(
  rest: CellId[],
  upstream: Map<CellId, CellId[]>,
  downstream: Map<CellId, CellId[]>,
  display: Map<CellId, number>,
): CellId[][] {
  const inRest = new Set(rest);
  const index = new Map<CellId, number>();
  const low = new Map<CellId, number>();
  const onStack = new Set<CellId>();
  const stack: CellId[] = [];
  const components: CellId[][] = [];
  let counter = 0;
  const edgeCache = new Map<CellId, CellId[]>();
  const edges = (v: CellId) => {
    let e = edgeCache.get(v);
    if (!e) {
      e = (upstream.get(v) ?? []).filter((u) => inRest.has(u));
      edgeCache.set(v, e);
    }
    return e;
  };
  // Iterative Tarjan, so a long chain cannot overflow the call stack.
  for (const root of rest) {
    if (index.has(root)) continue;
    const work: Array<{ v: CellId; i: number }> = [{ v: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1];
      const next = edges(top.v)[top.i++];
      if (next !== undefined) {
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push({ v: next, i: 0 });
        } else if (onStack.has(next)) low.set(top.v, Math.min(low.get(top.v)!, index.get(next)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: CellId[] = [];
        let w: CellId;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1) components.push(comp);
      }
    }
  }
  // Name each cycle as a walk along "reads" edges, in the direction data flows: a -> b means b reads a.
  return components
    .map((comp) => {
      const members = new Set(comp);
      const start = [...comp].sort((x, y) => display.get(x)! - display.get(y)!)[0];
      // Walk downstream inside the component back to the start (BFS for the shortest loop).
      const readers = (v: CellId) => downstream.get(v) ?? [];
      const prev = new Map<CellId, CellId>();
      const queue: CellId[] = [start];
      const seen = new Set<CellId>([start]);
      let closing: CellId | undefined;
      while (queue.length && closing === undefined) {
        const v = queue.shift()!;
        for (const w of readers(v)) {
          if (!members.has(w)) continue;
          if (w === start) {
            closing = v;
            break;
          }
          if (!seen.has(w)) {
            seen.add(w);
            prev.set(w, v);
            queue.push(w);
          }
        }
      }
      const path: CellId[] = [];
      for (let v: CellId | undefined = closing; v !== undefined && v !== start; v = prev.get(v)) path.unshift(v);
      return [start, ...path];
    })
    .sort((a, b) => display.get(a[0])! - display.get(b[0])!);
}
