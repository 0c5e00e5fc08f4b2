import { createSignal, Show } from 'solid-js';
import type * as Y from 'yjs';
import { BranchesSection } from './BranchesSection.tsx';
import { CellDiffList } from './CellDiffList.tsx';
import { createGitApi } from './git-api.ts';
import { createGitPanelStore, FIELD, FORM, ROW, short } from './git-panel-store.ts';
import { HistorySection } from './HistorySection.tsx';
import { RemoteSection } from './RemoteSection.tsx';

export interface GitPanelProps {
  notebookId: string;
  doc: Y.Doc;
  /** Headers for API calls (Authorization in token mode). */
  authHeaders: () => Record<string, string>;
}

/** Snapshot, history with diffs, restore, branches, export and push for one notebook. */
export function GitPanel(props: GitPanelProps) {
  const s = createGitPanelStore(createGitApi(props.notebookId, () => props.authHeaders()));
  const [message, setMessage] = createSignal('');

  const snapshot = () =>
    s.act('snapshot', async () => {
      const r = await s.api.snapshot(message());
      setMessage('');
      return r.created
        ? `Snapshot ${short(r.commit)} saved on ${r.branch}.`
        : 'Nothing changed since the last snapshot.';
    });

  return (
    <section aria-label="Git" class="git-panel side-panel-body">
      <h2>Git</h2>
      <Show when={s.status()}>
        {(st) => (
          <p class="git-status">
            On branch <strong>{st().branch}</strong>
            {st().head ? ` at ${short(st().head!)}` : ' (no snapshot yet)'}
          </p>
        )}
      </Show>
      <Show when={s.error()}>
        <p class="notice error" role="alert">
          {s.error()}
        </p>
      </Show>
      <Show when={s.notice()}>
        <p class="notice" role="status">
          {s.notice()}
        </p>
      </Show>
      <Show when={s.undoId()}>
        <button type="button" onClick={s.undoRestore} disabled={!!s.busy()}>
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
          <button type="submit" disabled={!message().trim() || !!s.busy()}>
            Snapshot
          </button>
          <Show when={s.status()?.head}>
            {(head) => (
              <button
                type="button"
                disabled={!!s.busy()}
                onClick={() => s.showDiff('Changes since the last snapshot', head(), 'live')}
              >
                Changes since last snapshot
              </button>
            )}
          </Show>
        </div>
      </form>

      <Show when={s.diff()}>
        {(d) => (
          <section aria-label="Diff">
            <h3>
              {d().title}{' '}
              <button type="button" onClick={() => s.setDiff(undefined)}>
                Close
              </button>
            </h3>
            <CellDiffList diff={d().diff} />
          </section>
        )}
      </Show>

      <HistorySection store={s} />
      <BranchesSection store={s} />
      <RemoteSection store={s} />
    </section>
  );
}
