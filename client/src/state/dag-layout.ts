// Pipeline view layout: cells as nodes, references as edges, laid out left to right by dagre. Pure, so tests check
// edges and positions without a browser.
import dagre from '@dagrejs/dagre';

export interface DagNodeIn {
  id: string;
  label: string;
  kind: string;
}
export interface DagEdgeIn {
  from: string;
  to: string;
}
export interface DagNodeOut extends DagNodeIn {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface DagEdgeOut extends DagEdgeIn {
  points: Array<{ x: number; y: number }>;
}
export interface DagLayout {
  nodes: DagNodeOut[];
  edges: DagEdgeOut[];
  width: number;
  height: number;
}

export const NODE_HEIGHT = 44;

export function layoutDag(nodes: DagNodeIn[], edges: DagEdgeIn[]): DagLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) g.setNode(n.id, { width: Math.max(110, 8 * n.label.length + 40), height: NODE_HEIGHT });
  const kept = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  for (const e of kept) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const outNodes = nodes.map((n) => {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
    return { ...n, x: p.x, y: p.y, width: p.width, height: p.height };
  });
  const outEdges = kept.map((e) => ({
    ...e,
    points: ((g.edge(e.from, e.to) as { points?: Array<{ x: number; y: number }> })?.points ?? []).map((p) => ({
      x: p.x,
      y: p.y,
    })),
  }));
  const graph = g.graph() as { width?: number; height?: number };
  return { nodes: outNodes, edges: outEdges, width: graph.width ?? 0, height: graph.height ?? 0 };
}
