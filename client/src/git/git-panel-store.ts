// The Git panel's state: server resources (status, history, branches), what is running, the last message, and the
// undo handle of the latest restore. Sections read it and call `act`, so every action reports the same way and
// refreshes the resources when it ends.
import { createResource, createSignal } from 'solid-js';
import type { CellConflict, GitApi, MergeReply, NotebookDiff } from './git-api.ts';

export const short = (sha: string) => sha.slice(0, 8);

// Layout kept local to the panel: stacked labels and full-width fields in the narrow side panel.
export const FORM = { display: 'grid', gap: '0.35rem', margin: '0.5rem 0', 'justify-items': 'start' } as const;
export const FIELD = { display: 'grid', gap: '0.15rem', 'justify-self': 'stretch' } as const;
export const ROW = { display: 'flex', gap: '0.35rem', 'flex-wrap': 'wrap', 'align-items': 'center' } as const;

export function mergeSummary(r: Pick<MergeReply, 'kind' | 'conflicts'>): string {
  const n = r.conflicts.length;
  if (r.kind === 'up_to_date') return 'Already up to date.';
  if (r.kind === 'fast_forward') return 'Fast-forwarded.';
  return n
    ? `Merged; ${n} conflicting cell${n === 1 ? '' : 's'} kept the chosen side (listed below).`
    : 'Merged with no conflicts.';
}

export function createGitPanelStore(api: GitApi) {
  const [status, { refetch: refetchStatus }] = createResource(() => api.status());
  const [history, { refetch: refetchHistory }] = createResource(() => api.history());
  const [branches, { refetch: refetchBranches }] = createResource(() => api.branches());
  const [busy, setBusy] = createSignal<string>();
  const [notice, setNotice] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  const [diff, setDiff] = createSignal<{ title: string; diff: NotebookDiff }>();
  const [undoId, setUndoId] = createSignal<string>();
  const [conflicts, setConflicts] = createSignal<CellConflict[]>([]);

  const refresh = () => {
    void refetchStatus();
    void refetchHistory();
    void refetchBranches();
  };

  /** Runs one action: clears the last message, shows the returned text or the error, then refreshes. */
  async function act(label: string, fn: () => Promise<string | undefined>): Promise<void> {
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

  const showDiff = (title: string, from: string, to: string) =>
    act('diff', async () => {
      setDiff({ title, diff: await api.diff(from, to) });
      return undefined;
    });

  const undoRestore = () =>
    act('undo', async () => {
      const id = undoId();
      if (!id) return undefined;
      const r = await api.undoRestore(id);
      setUndoId(undefined);
      return r.undone ? 'Restore undone.' : 'Nothing to undo.';
    });

  return {
    api,
    status,
    history,
    branches,
    busy,
    notice,
    error,
    diff,
    setDiff,
    undoId,
    setUndoId,
    conflicts,
    setConflicts,
    act,
    showDiff,
    undoRestore,
  };
}

export type GitPanelStore = ReturnType<typeof createGitPanelStore>;
