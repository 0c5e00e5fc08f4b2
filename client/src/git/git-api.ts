// The Git panel's HTTP calls (/api/notebooks/:id/git/..., documented in docs/git.md), with plain fetch and the
// caller's auth headers. Errors arrive as { error: { code, message } } and are thrown as GitApiError.
import type { ErrorBody } from '@pipebook/shared';
import type { CellConflict } from '../../../collab-server/src/git/merge.ts';
import type { CellChange, NotebookDiff } from '../../../collab-server/src/git/notebook-diff.ts';
import type { RemoteView } from '../../../collab-server/src/git/remote.ts';
import type { BranchInfo, SnapshotInfo, SnapshotResult } from '../../../collab-server/src/git/repo.ts';

export type { BranchInfo, CellChange, CellConflict, NotebookDiff, RemoteView, SnapshotInfo, SnapshotResult };

export class GitApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GitStatus {
  branch: string;
  head: string | null;
  remote: RemoteView | null;
}

export interface MergeReply {
  kind: 'up_to_date' | 'fast_forward' | 'merge';
  commit?: string;
  conflicts: CellConflict[];
  metaConflicts: string[];
  restoreId?: string;
}

export interface PushReply {
  branch: string;
  commit: string;
  status: 'up_to_date' | 'new' | 'updated';
}

export type Headers = () => Record<string, string>;

export function createGitApi(notebookId: string, headers: Headers) {
  const base = `/api/notebooks/${encodeURIComponent(notebookId)}/git`;
  async function call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers(),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed as { error?: ErrorBody } | undefined)?.error;
      throw new GitApiError(err?.code ?? 'internal', err?.message ?? `Request failed (${res.status}).`);
    }
    return parsed as T;
  }
  const q = encodeURIComponent;
  return {
    status: () => call<GitStatus>('/status'),
    history: (limit = 50) => call<{ snapshots: SnapshotInfo[] }>(`/history?limit=${limit}`).then((r) => r.snapshots),
    snapshot: (message: string) => call<SnapshotResult>('/snapshot', { method: 'POST', body: { message } }),
    diff: (from: string, to = 'live') => call<NotebookDiff>(`/diff?from=${q(from)}&to=${q(to)}`),
    restore: (rev: string) =>
      call<{ commit: string; restoreId: string }>('/restore', { method: 'POST', body: { rev } }),
    undoRestore: (restoreId: string) =>
      call<{ undone: boolean }>('/restore/undo', { method: 'POST', body: { restoreId } }),
    branches: () => call<{ branches: BranchInfo[] }>('/branches').then((r) => r.branches),
    createBranch: (name: string) => call<BranchInfo>('/branches', { method: 'POST', body: { name } }),
    switchBranch: (name: string) =>
      call<{ branch: string; commit: string; restoreId?: string }>('/branches/switch', {
        method: 'POST',
        body: { name },
      }),
    merge: (branch: string, opts: { dryRun?: boolean; resolutions?: Record<string, 'ours' | 'theirs'> } = {}) =>
      call<MergeReply>('/merge', { method: 'POST', body: { branch, ...opts } }),
    setRemote: (remote: { url: string; tokenEnv?: string; auth?: 'bearer' | 'basic'; username?: string }) =>
      call<{ remote: RemoteView }>('/remote', { method: 'PUT', body: remote }).then((r) => r.remote),
    push: () => call<PushReply>('/push', { method: 'POST', body: {} }),
    pull: () => call<MergeReply>('/pull', { method: 'POST', body: {} }),
    /** The exported project as a zip Blob and its file name. */
    async exportZip(): Promise<{ blob: Blob; filename: string }> {
      const res = await fetch(`${base}/export?format=zip`, { headers: headers() });
      if (!res.ok) throw new GitApiError('internal', `Export failed (${res.status}).`);
      const disposition = res.headers.get('content-disposition') ?? '';
      const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'pipebook-project.zip';
      return { blob: await res.blob(), filename };
    },
  };
}

export type GitApi = ReturnType<typeof createGitApi>;
