// biome-ignore-all lint/a11y/useSemanticElements: SVG has no <button> or <fieldset>; nodes use ARIA roles with keyboard handlers
import type { RunSummary } from '@pipebook/shared';
import { createMemo, For } from 'solid-js';
import { layoutDag } from '../state/dag-layout.ts';
import type { PipelineEdge } from '../state/pipeline.ts';

export interface DagCell {
  id: string;
  name: string;
  kind: string;
}

export function statusClass(run: RunSummary | undefined, stale: boolean): string {
  if (!run) return 'idle';
  if (stale) return 'stale';
  return run.status;
}

/** The pipeline as a left-to-right graph; status colours come from the shared runs map, so they change live. */
export function DagView(props: {
  cells: DagCell[];
  edges: PipelineEdge[];
  statusOf(id: string): string;
  errorOf(id: string): string | undefined;
  onSelect(id: string): void;
}) {
  const layout = createMemo(() =>
    layoutDag(
      props.cells.map((c) => ({ id: c.id, label: c.name, kind: c.kind })),
      props.edges,
    ),
  );
  const path = (pts: Array<{ x: number; y: number }>) =>
    pts.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  return (
    <div class="dag-view">
      <svg
        class="dag"
        role="group"
        aria-label="Pipeline"
        width={Math.max(200, layout().width)}
        height={Math.max(80, layout().height)}
        viewBox={`0 0 ${Math.max(200, layout().width)} ${Math.max(80, layout().height)}`}
      >
        <defs>
          <marker
            id="dag-arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" />
          </marker>
        </defs>
        <For each={layout().edges}>
          {(e) => (
            <path class="dag-edge" data-from={e.from} data-to={e.to} d={path(e.points)} marker-end="url(#dag-arrow)" />
          )}
        </For>
        <For each={layout().nodes}>
          {(n) => (
            <g
              class={`dag-node status-${props.statusOf(n.id)}${props.errorOf(n.id) ? ' has-error' : ''}`}
              data-cell={n.id}
              transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}
              role="button"
              tabindex="0"
              aria-label={`${n.label} (${n.kind}), ${props.statusOf(n.id)}${props.errorOf(n.id) ? `, ${props.errorOf(n.id)}` : ''}`}
              onClick={() => props.onSelect(n.id)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  props.onSelect(n.id);
                }
              }}
            >
              <rect width={n.width} height={n.height} rx="6" />
              <text x={n.width / 2} y={18} text-anchor="middle" class="dag-name">
                {n.label}
              </text>
              <text x={n.width / 2} y={34} text-anchor="middle" class="dag-kind">
                {n.kind} · {props.statusOf(n.id)}
              </text>
            </g>
          )}
        </For>
      </svg>
    </div>
  );
}
