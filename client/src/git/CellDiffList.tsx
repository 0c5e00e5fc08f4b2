import { For, Show } from 'solid-js';
import type { NotebookDiff } from './git-api.ts';

const STATUS_LABEL = { added: 'added', removed: 'removed', renamed: 'renamed', changed: 'changed' } as const;

function lineClass(line: string): string | undefined {
  if (line.startsWith('+++') || line.startsWith('---')) return 'git-diff-file';
  if (line.startsWith('@@')) return 'git-diff-hunk';
  if (line.startsWith('+')) return 'git-diff-add';
  if (line.startsWith('-')) return 'git-diff-del';
  return undefined;
}

const LINE_STYLE: Record<string, Record<string, string>> = {
  'git-diff-add': { background: '#e6f6e6' },
  'git-diff-del': { background: '#fbe9e9' },
  'git-diff-hunk': { color: '#6a5acd' },
  'git-diff-file': { color: '#666' },
};

/** Per-cell changes between two snapshots: status, names, and each cell's unified diff. */
export function CellDiffList(props: { diff: NotebookDiff }) {
  return (
    <section class="git-diff" aria-label="Changes">
      <Show when={props.diff.title}>
        {(t) => (
          <p>
            Title: “{t().from}” → “{t().to}”
          </p>
        )}
      </Show>
      <Show when={props.diff.orderChanged}>
        <p>Cells were reordered.</p>
      </Show>
      <Show when={props.diff.cells.length === 0 && !props.diff.title && !props.diff.orderChanged}>
        <p class="empty">No changes.</p>
      </Show>
      <ul style={{ 'list-style': 'none', padding: 0, margin: 0 }}>
        <For each={props.diff.cells}>
          {(c) => (
            <li data-cell-id={c.id} data-status={c.status}>
              <strong>{c.name}</strong> <span class={`badge git-${c.status}`}>{STATUS_LABEL[c.status]}</span>
              <Show when={c.previousName}>{(p) => <span> (was {p()})</span>}</Show>
              <Show when={c.previousKind}>{(k) => <span> (kind was {k()})</span>}</Show>
              <Show when={c.diff}>
                <pre style={{ 'font-size': '0.78rem', 'overflow-x': 'auto', margin: '0.25rem 0 0.75rem' }}>
                  <For each={c.diff.replace(/\n$/, '').split('\n')}>
                    {(line) => <div style={LINE_STYLE[lineClass(line) ?? ''] ?? {}}>{line || ' '}</div>}
                  </For>
                </pre>
              </Show>
            </li>
          )}
        </For>
      </ul>
    </section>
  );
}
