import { createSignal, For, Show } from 'solid-js';
import { FIELD, FORM, type GitPanelStore, mergeSummary, short } from './git-panel-store.ts';

/** Branches: list and switch, create, and merge into the current branch with a side chosen per conflicting cell. */
export function BranchesSection(props: { store: GitPanelStore }) {
  const s = props.store;
  const [newBranch, setNewBranch] = createSignal('');
  const [mergeFrom, setMergeFrom] = createSignal('');
  const [choices, setChoices] = createSignal<Record<string, 'ours' | 'theirs'>>({});

  const previewMerge = () =>
    s.act('merge', async () => {
      const r = await s.api.merge(mergeFrom(), { dryRun: true });
      s.setConflicts(r.conflicts);
      setChoices(Object.fromEntries(r.conflicts.map((c) => [c.id, 'ours' as const])));
      return r.conflicts.length
        ? `${r.conflicts.length} cell(s) conflict: choose a side for each, then merge.`
        : r.kind === 'up_to_date'
          ? 'Already up to date.'
          : 'No conflicts: ready to merge.';
    });

  const merge = () =>
    s.act('merge', async () => {
      const r = await s.api.merge(mergeFrom(), { resolutions: choices() });
      s.setConflicts(r.conflicts);
      if (r.restoreId) s.setUndoId(r.restoreId);
      return mergeSummary(r);
    });

  return (
    <section aria-label="Branches">
      <h3>Branches</h3>
      <ul>
        <For each={s.branches()}>
          {(b) => (
            <li>
              {b.current ? <strong>{b.name} (current)</strong> : b.name}{' '}
              <Show when={!b.current}>
                <button
                  type="button"
                  disabled={!!s.busy()}
                  onClick={() =>
                    s.act('switch', async () => {
                      const r = await s.api.switchBranch(b.name);
                      if (r.restoreId) s.setUndoId(r.restoreId);
                      return `Switched to ${b.name}; the notebook now shows its last snapshot.`;
                    })
                  }
                >
                  Switch
                </button>
              </Show>
            </li>
          )}
        </For>
      </ul>
      <form
        aria-label="New branch"
        style={FORM}
        onSubmit={(e) => {
          e.preventDefault();
          void s.act('branch', async () => {
            const b = await s.api.createBranch(newBranch());
            setNewBranch('');
            return `Branch ${b.name} created at ${short(b.commit)}.`;
          });
        }}
      >
        <label style={FIELD}>
          New branch
          <input value={newBranch()} onInput={(e) => setNewBranch(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={!newBranch().trim() || !!s.busy()}>
          Create
        </button>
      </form>
      <fieldset aria-label="Merge" style={FORM}>
        <label style={FIELD}>
          Merge branch
          <select value={mergeFrom()} onChange={(e) => setMergeFrom(e.currentTarget.value)}>
            <option value="">(choose)</option>
            <For each={(s.branches() ?? []).filter((b) => !b.current)}>
              {(b) => <option value={b.name}>{b.name}</option>}
            </For>
          </select>
        </label>
        <button type="button" disabled={!mergeFrom() || !!s.busy()} onClick={previewMerge}>
          Preview
        </button>
        <button type="button" disabled={!mergeFrom() || !!s.busy()} onClick={merge}>
          Merge into current
        </button>
        <Show when={s.conflicts().length > 0}>
          <ul aria-label="Conflicts">
            <For each={s.conflicts()}>
              {(c) => (
                <li data-cell-id={c.id}>
                  <strong>{c.name}</strong>: {c.reason.replaceAll('_', ' ')}
                  {c.fields.length ? ` (${c.fields.join(', ')})` : ''}{' '}
                  <select
                    aria-label={`Keep which version of ${c.name}`}
                    value={choices()[c.id] ?? 'ours'}
                    onChange={(e) => setChoices({ ...choices(), [c.id]: e.currentTarget.value as 'ours' | 'theirs' })}
                  >
                    <option value="ours">keep current branch</option>
                    <option value="theirs">take {mergeFrom() || 'theirs'}</option>
                  </select>
                  <Show when={c.diff}>
                    <pre style={{ 'font-size': '0.78rem', 'overflow-x': 'auto', margin: '0.25rem 0' }}>{c.diff}</pre>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </Show>
      </fieldset>
    </section>
  );
}
