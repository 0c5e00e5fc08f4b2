import { createResource, createSignal, For, Show } from 'solid-js';
import type * as Y from 'yjs';
import { CellDiffList } from './CellDiffList.tsx';
import { type CellConflict, createGitApi, type NotebookDiff, type SnapshotInfo } from './git-api.ts';

export interface GitPanelProps {
  notebookId: string;
  doc: Y.Doc;
  /** Headers for API calls (Authorization in token mode). */
  authHeaders: () => Record<string, string>;
}

const short = (sha: string) => sha.slice(0, 8);

// Layout kept local to the panel: stacked labels and full-width fields in the narrow side panel.
const FORM = { display: 'grid', gap: '0.35rem', margin: '0.5rem 0', 'justify-items': 'start' } as const;
const FIELD = { display: 'grid', gap: '0.15rem', 'justify-self': 'stretch' } as const;
const ROW = { display: 'flex', gap: '0.35rem', 'flex-wrap': 'wrap', 'align-items': 'center' } as const;

/** Snapshot, history with diffs, restore, branches, export and push for one notebook. */
export function GitPanel(props: GitPanelProps) {
  const api = createGitApi(props.notebookId, () => props.authHeaders());
  const [status, { refetch: refetchStatus }] = createResource(() => api.status());
  const [history, { refetch: refetchHistory }] = createResource(() => api.history());
  const [branches, { refetch: refetchBranches }] = createResource(() => api.branches());
  const [message, setMessage] = createSignal('');
  const [busy, setBusy] = createSignal<string>();
  const [notice, setNotice] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  const [diff, setDiff] = createSignal<{ title: string; diff: NotebookDiff }>();
  const [undoId, setUndoId] = createSignal<string>();
  const [newBranch, setNewBranch] = createSignal('');
  const [mergeFrom, setMergeFrom] = createSignal('');
  const [conflicts, setConflicts] = createSignal<CellConflict[]>([]);
  const [choices, setChoices] = createSignal<Record<string, 'ours' | 'theirs'>>({});
  const [remoteUrl, setRemoteUrl] = createSignal('');
  const [remoteTokenEnv, setRemoteTokenEnv] = createSignal('PIPEBOOK_GIT_TOKEN');

  const refresh = () => {
    void refetchStatus();
    void refetchHistory();
    void refetchBranches();
  };

  async function act(label: string, fn: () => Promise<string | undefined>) {
    setBusy(label);
    setError(undefined);
    setNotice(undefined);
    try {
      const text = await fn();
      if (text) setNotice(text);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
      refresh();
    }
  }

  const snapshot = () =>
    act('snapshot', async () => {
      const r = await api.snapshot(message());
      setMessage('');
      return r.created
        ? `Snapshot ${short(r.commit)} saved on ${r.branch}.`
        : 'Nothing changed since the last snapshot.';
    });

  const showDiff = (title: string, from: string, to: string) =>
    act('diff', async () => {
      setDiff({ title, diff: await api.diff(from, to) });
      return undefined;
    });

  const restore = (s: SnapshotInfo) =>
    act('restore', async () => {
      const r = await api.restore(s.commit);
      setUndoId(r.restoreId);
      return `Restored “${s.message.split('\n')[0]}” (${short(s.commit)}) for everyone.`;
    });

  const undoRestore = () =>
    act('undo', async () => {
      const id = undoId();
      if (!id) return undefined;
      const r = await api.undoRestore(id);
      setUndoId(undefined);
      return r.undone ? 'Restore undone.' : 'Nothing to undo.';
    });

  const mergeText = (kind: string, n: number) =>
    kind === 'up_to_date'
      ? 'Already up to date.'
      : kind === 'fast_forward'
        ? 'Fast-forwarded.'
        : n
          ? `Merged; ${n} conflicting cell${n === 1 ? '' : 's'} kept the chosen side (listed below).`
          : 'Merged with no conflicts.';

  const previewMerge = () =>
    act('merge', async () => {
      const r = await api.merge(mergeFrom(), { dryRun: true });
      setConflicts(r.conflicts);
      setChoices(Object.fromEntries(r.conflicts.map((c) => [c.id, 'ours' as const])));
      return r.conflicts.length
        ? `${r.conflicts.length} cell(s) conflict: choose a side for each, then merge.`
        : r.kind === 'up_to_date'
          ? 'Already up to date.'
          : 'No conflicts: ready to merge.';
    });

  const merge = () =>
    act('merge', async () => {
      const r = await api.merge(mergeFrom(), { resolutions: choices() });
      setConflicts(r.conflicts);
      if (r.restoreId) setUndoId(r.restoreId);
      return mergeText(r.kind, r.conflicts.length);
    });

  const download = () =>
    act('export', async () => {
      const { blob, filename } = await api.exportZip();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return `Downloaded ${filename}.`;
    });

  return (
    <section aria-label="Git" class="git-panel side-panel-body">
      <h2>Git</h2>
      <Show when={status()}>
        {(s) => (
          <p class="git-status">
            On branch <strong>{s().branch}</strong>
            {s().head ? ` at ${short(s().head!)}` : ' (no snapshot yet)'}
          </p>
        )}
      </Show>
      <Show when={error()}>
        <p class="notice error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={notice()}>
        <p class="notice" role="status">
          {notice()}
        </p>
      </Show>
      <Show when={undoId()}>
        <button type="button" onClick={undoRestore} disabled={!!busy()}>
          Undo restore
        </button>
      </Show>

      <form
        aria-label="Snapshot"
        style={FORM}
        onSubmit={(e) => {
          e.preventDefault();
          void snapshot();
        }}
      >
        <label style={FIELD}>
          Snapshot message
          <textarea rows={2} value={message()} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        <div style={ROW}>
          <button type="submit" disabled={!message().trim() || !!busy()}>
            Snapshot
          </button>
          <Show when={status()?.head}>
            {(head) => (
              <button
                type="button"
                disabled={!!busy()}
                onClick={() => showDiff('Changes since the last snapshot', head(), 'live')}
              >
                Changes since last snapshot
              </button>
            )}
          </Show>
        </div>
      </form>

      <Show when={diff()}>
        {(d) => (
          <section aria-label="Diff">
            <h3>
              {d().title}{' '}
              <button type="button" onClick={() => setDiff(undefined)}>
                Close
              </button>
            </h3>
            <CellDiffList diff={d().diff} />
          </section>
        )}
      </Show>

      <section aria-label="History">
        <h3>History</h3>
        <Show when={(history() ?? []).length > 0} fallback={<p class="empty">No snapshots yet.</p>}>
          <ol class="git-history">
            <For each={history()}>
              {(s) => (
                <li data-commit={s.commit}>
                  <div>
                    <strong>{s.message.split('\n')[0]}</strong>
                  </div>
                  <small>
                    {s.author.name} · {new Date(s.date).toLocaleString()} · {short(s.commit)}
                  </small>
                  <div>
                    <Show when={s.parents[0]}>
                      {(parent) => (
                        <button
                          type="button"
                          disabled={!!busy()}
                          onClick={() => showDiff(`Changes in ${short(s.commit)}`, parent(), s.commit)}
                        >
                          Changes
                        </button>
                      )}
                    </Show>
                    <button
                      type="button"
                      disabled={!!busy()}
                      onClick={() => showDiff(`${short(s.commit)} → now`, s.commit, 'live')}
                    >
                      Compare with now
                    </button>
                    <button type="button" disabled={!!busy()} onClick={() => restore(s)}>
                      Restore
                    </button>
                  </div>
                </li>
              )}
            </For>
          </ol>
        </Show>
      </section>

      <section aria-label="Branches">
        <h3>Branches</h3>
        <ul>
          <For each={branches()}>
            {(b) => (
              <li>
                {b.current ? <strong>{b.name} (current)</strong> : b.name}{' '}
                <Show when={!b.current}>
                  <button
                    type="button"
                    disabled={!!busy()}
                    onClick={() =>
                      act('switch', async () => {
                        const r = await api.switchBranch(b.name);
                        if (r.restoreId) setUndoId(r.restoreId);
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
            void act('branch', async () => {
              const b = await api.createBranch(newBranch());
              setNewBranch('');
              return `Branch ${b.name} created at ${short(b.commit)}.`;
            });
          }}
        >
          <label style={FIELD}>
            New branch
            <input value={newBranch()} onInput={(e) => setNewBranch(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={!newBranch().trim() || !!busy()}>
            Create
          </button>
        </form>
        <fieldset aria-label="Merge" style={FORM}>
          <label style={FIELD}>
            Merge branch
            <select value={mergeFrom()} onChange={(e) => setMergeFrom(e.currentTarget.value)}>
              <option value="">(choose)</option>
              <For each={(branches() ?? []).filter((b) => !b.current)}>
                {(b) => <option value={b.name}>{b.name}</option>}
              </For>
            </select>
          </label>
          <button type="button" disabled={!mergeFrom() || !!busy()} onClick={previewMerge}>
            Preview
          </button>
          <button type="button" disabled={!mergeFrom() || !!busy()} onClick={merge}>
            Merge into current
          </button>
          <Show when={conflicts().length > 0}>
            <ul aria-label="Conflicts">
              <For each={conflicts()}>
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

      <section aria-label="Export and remote">
        <h3>Export and remote</h3>
        <button type="button" disabled={!!busy()} onClick={download}>
          Download project (.zip)
        </button>
        <Show
          when={status()?.remote}
          fallback={
            <form
              aria-label="Remote"
              style={FORM}
              onSubmit={(e) => {
                e.preventDefault();
                void act('remote', async () => {
                  await api.setRemote({ url: remoteUrl(), tokenEnv: remoteTokenEnv() || undefined });
                  return 'Remote saved.';
                });
              }}
            >
              <label style={FIELD}>
                Remote URL (https)
                <input value={remoteUrl()} onInput={(e) => setRemoteUrl(e.currentTarget.value)} />
              </label>
              <label style={FIELD}>
                Token variable on the server
                <input value={remoteTokenEnv()} onInput={(e) => setRemoteTokenEnv(e.currentTarget.value)} />
              </label>
              <button type="submit" disabled={!remoteUrl() || !!busy()}>
                Save remote
              </button>
            </form>
          }
        >
          {(remote) => (
            <div>
              <p>
                Remote: {remote().url}
                {remote().tokenEnv
                  ? remote().tokenPresent
                    ? ` (token from ${remote().tokenEnv})`
                    : ` (${remote().tokenEnv} is not set on the server)`
                  : ''}
              </p>
              <button
                type="button"
                disabled={!!busy()}
                onClick={() =>
                  act('push', async () => {
                    const r = await api.push();
                    return r.status === 'up_to_date'
                      ? 'The remote is up to date.'
                      : `Pushed ${short(r.commit)} to ${r.branch}.`;
                  })
                }
              >
                Push
              </button>
              <button
                type="button"
                disabled={!!busy()}
                onClick={() =>
                  act('pull', async () => {
                    const r = await api.pull();
                    setConflicts(r.conflicts);
                    if (r.restoreId) setUndoId(r.restoreId);
                    return `Pull: ${mergeText(r.kind, r.conflicts.length)}`;
                  })
                }
              >
                Pull
              </button>
            </div>
          )}
        </Show>
      </section>
    </section>
  );
}
