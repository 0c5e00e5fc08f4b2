import { For, Show } from 'solid-js';
import type { Peer } from '../state/presence.ts';

/** Who is here, and which cell each person is in (click a person to go to their cell). */
export function PresenceBar(props: {
  peers: Peer[];
  cellName(id: string): string | undefined;
  onGoTo(cellId: string): void;
}) {
  return (
    <ul class="presence-bar" aria-label="People in this notebook">
      <For each={props.peers}>
        {(p) => {
          const where = () => (p.cellId ? props.cellName(p.cellId) : undefined);
          return (
            <li class="peer" data-user={p.userId} style={{ '--peer': p.color }}>
              <button
                type="button"
                disabled={!p.cellId || p.self}
                aria-label={`${p.name}${p.self ? ' (you)' : ''}${where() ? `, in ${where()}` : ''}`}
                onClick={() => p.cellId && props.onGoTo(p.cellId)}
              >
                <span class="avatar" aria-hidden="true">
                  {p.name.slice(0, 1).toUpperCase()}
                </span>
                <span class="peer-name">
                  {p.name}
                  {p.self ? ' (you)' : ''}
                </span>
                <Show when={where()}>
                  <span class="peer-cell">in {where()}</span>
                </Show>
              </button>
            </li>
          );
        }}
      </For>
    </ul>
  );
}
