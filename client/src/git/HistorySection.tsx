import { For, Show } from 'solid-js';
import type { SnapshotInfo } from './git-api.ts';
import { type GitPanelStore, short } from './git-panel-store.ts';

/** The snapshots of the current branch, each with its changes, a comparison with now, and restore. */
export function HistorySection(props: { store: GitPanelStore }) {
  const s = props.store;
  const restore = (snap: SnapshotInfo) =>
    s.act('restore', async () => {
      const r = await s.api.restore(snap.commit);
      s.setUndoId(r.restoreId);
      return `Restored “${snap.message.split('\n')[0]}” (${short(snap.commit)}) for everyone.`;
    });
  return (
    <section aria-label="History">
      <h3>History</h3>
      <Show when={(s.history() ?? []).length > 0} fallback={<p class="empty">No snapshots yet.</p>}>
        <ol class="git-history">
          <For each={s.history()}>
            {(snap) => (
              <li data-commit={snap.commit}>
                <div>
                  <strong>{snap.message.split('\n')[0]}</strong>
                </div>
                <small>
                  {snap.author.name} · {new Date(snap.date).toLocaleString()} · {short(snap.commit)}
                </small>
                <div>
                  <Show when={snap.parents[0]}>
                    {(parent) => (
                      <button
                        type="button"
                        disabled={!!s.busy()}
                        onClick={() => s.showDiff(`Changes in ${short(snap.commit)}`, parent(), snap.commit)}
                      >
                        Changes
                      </button>
                    )}
                  </Show>
                  <button
                    type="button"
                    disabled={!!s.busy()}
                    onClick={() => s.showDiff(`${short(snap.commit)} → now`, snap.commit, 'live')}
                  >
                    Compare with now
                  </button>
                  <button type="button" disabled={!!s.busy()} onClick={() => restore(snap)}>
                    Restore
                  </button>
                </div>
              </li>
            )}
          </For>
        </ol>
      </Show>
    </section>
  );
}
