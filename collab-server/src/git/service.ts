// Git features for live notebooks: the glue between the collaboration server's documents (FeatureContext.openDoc)
// and the plain functions in this folder. HTTP routes call this; it knows nothing about requests.
import { randomUUID } from 'node:crypto';
import { type NotebookState, PipebookError, readCells, readMeta, readRuns } from '@pipebook/shared';
import type * as Y from 'yjs';
import type { AuthedUser } from '../http/features.ts';
import { exportDbtProject } from './dbt-export.ts';
import { importDbtProject } from './dbt-import.ts';
import type { Resolution } from './merge.ts';
import { gitIdentity, validateMessage } from './names.ts';
import { diffStates, type NotebookDiff } from './notebook-diff.ts';
import {
  pullFromRemote,
  pushToRemote,
  type RemoteConfig,
  type RemoteView,
  readRemote,
  validateRemoteConfig,
  viewRemote,
  writeRemote,
} from './remote.ts';
import { type MergeOutcome, NotebookRepo } from './repo.ts';
import { type RestoreHandle, restoreIntoDoc } from './restore.ts';

export interface DocAccess {
  home: string;
  openDoc(notebookId: string): Promise<{ doc: Y.Doc; release: () => void }>;
  /**
   * Runs `fn` on one instance at a time (a Redis lease under scale-out); resolves false when it did not run because
   * another instance holds the lease or Redis is away. Absent on a single instance, where everything may run.
   */
  exclusive?(key: string, ttlMs: number, fn: () => Promise<void>): Promise<boolean>;
  /**
   * Runs `fn` on one instance at a time, waiting up to `waitMs` for the lease; without Redis (or after the wait) it
   * runs anyway. Absent on a single instance.
   */
  exclusiveWaiting?<T>(key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T>;
}

/**
 * The lease every Git write to a notebook's repository takes under scale-out: instances share the repository on
 * disk, and two snapshots at once would each commit the same content (or trip over git's index.lock).
 */
export const gitLeaseKey = (notebookId: string) => `pipebook:git:{${notebookId}}:write-lease`;
const GIT_LEASE_MS = 60_000;
/** How long a Git request waits for another instance's write to the same notebook before writing anyway. */
const GIT_LEASE_WAIT_MS = 15_000;

/** The rev a caller may name for the live notebook in diffs and exports. */
export const LIVE = 'live';

/** How long a restore stays undoable from the Git panel. */
export const RESTORE_UNDO_MS = 15 * 60_000;

interface PendingRestore {
  id: string;
  handle: RestoreHandle;
  release: () => void;
  timer: NodeJS.Timeout;
}

export function stateOfDoc(doc: Y.Doc): NotebookState {
  const meta = readMeta(doc);
  return { title: meta.title, defaultEngine: meta.defaultEngine, cells: readCells(doc) };
}

export class GitService {
  private readonly repos = new Map<string, NotebookRepo>();
  private readonly restores = new Map<string, PendingRestore>();

  constructor(
    private readonly docs: DocAccess,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  repo(notebookId: string): NotebookRepo {
    let r = this.repos.get(notebookId);
    if (!r) {
      r = new NotebookRepo(this.docs.home, notebookId);
      this.repos.set(notebookId, r);
    }
    return r;
  }

  async liveState(notebookId: string): Promise<{ state: NotebookState; runs: ReturnType<typeof readRuns> }> {
    const { doc, release } = await this.docs.openDoc(notebookId);
    try {
      return { state: stateOfDoc(doc), runs: readRuns(doc) };
    } finally {
      release();
    }
  }

  async status(notebookId: string) {
    const repo = this.repo(notebookId);
    const branches = await repo.branches();
    const current = branches.find((b) => b.current)!;
    const remote = await readRemote(this.docs.home, notebookId, this.env);
    return { branch: current.name, head: current.commit || null, remote: remote ? viewRemote(remote, this.env) : null };
  }

  async snapshot(notebookId: string, user: AuthedUser, message: unknown) {
    const text = validateMessage(message);
    // The live state is read under the lease too: a snapshot that waited reads what is live when it runs, so one
    // taken right after another instance's finds the same content and makes no second commit.
    return this.writing(notebookId, async () => {
      const { state } = await this.liveState(notebookId);
      return this.repo(notebookId).snapshot(state, gitIdentity(user), text);
    });
  }

  /** Runs a write to the notebook's repository under its Git lease when instances share it (see gitLeaseKey). */
  private writing<T>(notebookId: string, fn: () => Promise<T>): Promise<T> {
    const waiting = this.docs.exclusiveWaiting;
    return waiting ? waiting(gitLeaseKey(notebookId), GIT_LEASE_MS, GIT_LEASE_WAIT_MS, fn) : fn();
  }

  history(notebookId: string, opts: { rev?: string; limit?: number }) {
    return this.repo(notebookId).history(opts);
  }

  async stateAt(notebookId: string, rev: string): Promise<NotebookState> {
    if (rev === LIVE) return (await this.liveState(notebookId)).state;
    return this.repo(notebookId).readState(rev);
  }

  async diff(notebookId: string, from: string, to: string): Promise<NotebookDiff> {
    const [a, b] = await Promise.all([this.stateAt(notebookId, from), this.stateAt(notebookId, to)]);
    return diffStates(a, b);
  }

  /** Puts `state` into the live notebook as one undoable transaction; returns the id to undo it with. */
  async applyToLive(
    notebookId: string,
    user: AuthedUser,
    state: NotebookState,
    source: 'restore' | 'import' = 'restore',
  ): Promise<string> {
    const { doc, release } = await this.docs.openDoc(notebookId);
    let handle: RestoreHandle;
    try {
      handle = restoreIntoDoc(doc, state, user.id, source);
    } catch (e) {
      release();
      throw e;
    }
    this.dropRestore(notebookId);
    const id = randomUUID();
    // The document stays loaded while the restore can be undone.
    const timer = setTimeout(() => this.dropRestore(notebookId, id), RESTORE_UNDO_MS);
    timer.unref();
    this.restores.set(notebookId, { id, handle, release, timer });
    return id;
  }

  private dropRestore(notebookId: string, id?: string): void {
    const p = this.restores.get(notebookId);
    if (!p || (id && p.id !== id)) return;
    clearTimeout(p.timer);
    p.handle.destroy();
    p.release();
    this.restores.delete(notebookId);
  }

  async restore(notebookId: string, user: AuthedUser, rev: string) {
    const repo = this.repo(notebookId);
    const commit = await repo.exclusive(() => repo.resolve(rev));
    const state = await repo.readState(commit);
    const restoreId = await this.applyToLive(notebookId, user, state);
    return { commit, restoreId };
  }

  /** Undoes the latest restore (or import, merge, switch) applied to the live notebook. */
  undoRestore(notebookId: string, restoreId?: string): { undone: boolean } {
    const p = this.restores.get(notebookId);
    if (!p || (restoreId && p.id !== restoreId)) {
      throw new PipebookError('not_found', 'Nothing to undo: the restore is too old or was replaced by a newer one.');
    }
    return { undone: p.handle.undo() };
  }

  branches(notebookId: string) {
    return this.repo(notebookId).branches();
  }

  createBranch(notebookId: string, name: unknown, from?: unknown) {
    if (typeof name !== 'string') throw new PipebookError('bad_request', 'Give the branch a name.');
    const start = typeof from === 'string' && from ? from : undefined;
    return this.writing(notebookId, () => this.repo(notebookId).createBranch(name, start));
  }

  async switchBranch(notebookId: string, user: AuthedUser, name: unknown, apply = true) {
    if (typeof name !== 'string') throw new PipebookError('bad_request', 'Name the branch to switch to.');
    const repo = this.repo(notebookId);
    const commit = await this.writing(notebookId, () => repo.switchBranch(name));
    const restoreId = apply ? await this.applyToLive(notebookId, user, await repo.readState(commit)) : undefined;
    return { branch: name, commit, restoreId };
  }

  private async applyOutcome(notebookId: string, user: AuthedUser, outcome: MergeOutcome, apply: boolean) {
    const restoreId = apply && outcome.commit ? await this.applyToLive(notebookId, user, outcome.state) : undefined;
    const { state: _state, ...rest } = outcome;
    return { ...rest, restoreId };
  }

  async merge(
    notebookId: string,
    user: AuthedUser,
    body: { branch?: unknown; message?: unknown; resolutions?: unknown; dryRun?: unknown; apply?: unknown },
  ) {
    if (typeof body.branch !== 'string') throw new PipebookError('bad_request', 'Name the branch to merge.');
    const branch = body.branch;
    const options = {
      message: typeof body.message === 'string' && body.message.trim() ? validateMessage(body.message) : undefined,
      resolutions: parseResolutions(body.resolutions),
      dryRun: body.dryRun === true,
    };
    const outcome = await this.writing(notebookId, () =>
      this.repo(notebookId).mergeCommit(branch, gitIdentity(user), options),
    );
    return this.applyOutcome(notebookId, user, outcome, body.apply !== false);
  }

  async exportProject(notebookId: string, rev: string = LIVE): Promise<{ files: Map<string, string>; title: string }> {
    const { state, runs } =
      rev === LIVE ? await this.liveState(notebookId) : { state: await this.stateAt(notebookId, rev), runs: {} };
    return { files: exportDbtProject(state, runs), title: state.title };
  }

  async importProject(notebookId: string, user: AuthedUser, files: unknown) {
    if (!Array.isArray(files) || files.length > 5000)
      throw new PipebookError('bad_request', 'Expected files: [{ path, content }] (at most 5000).');
    const map = new Map<string, string>();
    for (const f of files) {
      if (!f || typeof f.path !== 'string' || typeof f.content !== 'string') {
        throw new PipebookError('bad_request', 'Each file needs a path and a text content.');
      }
      // Exported zips hold everything under one folder: accept both layouts.
      map.set(f.path.replace(/^[^/]+\/(?=(dbt_project\.yml|pipebook\.yml|models\/|notes\/|python\/))/, ''), f.content);
    }
    const { state: live } = await this.liveState(notebookId);
    const state = importDbtProject(map, live.title);
    const restoreId = await this.applyToLive(notebookId, user, state, 'import');
    return { cells: state.cells.length, restoreId };
  }

  async getRemote(notebookId: string): Promise<RemoteView | null> {
    const r = await readRemote(this.docs.home, notebookId, this.env);
    return r ? viewRemote(r, this.env) : null;
  }

  async setRemote(notebookId: string, body: unknown): Promise<RemoteView | null> {
    if (body === null) {
      await writeRemote(this.docs.home, notebookId, undefined);
      return null;
    }
    const remote = validateRemoteConfig(body, this.env);
    await writeRemote(this.docs.home, notebookId, remote);
    return viewRemote(remote, this.env);
  }

  private async requireRemote(notebookId: string): Promise<RemoteConfig> {
    const r = await readRemote(this.docs.home, notebookId, this.env);
    if (!r) throw new PipebookError('conflict', 'No remote is configured for this notebook (an owner sets one).');
    return r;
  }

  async push(notebookId: string) {
    const remote = await this.requireRemote(notebookId);
    return this.writing(notebookId, () => pushToRemote(this.repo(notebookId), remote, this.env));
  }

  async pull(notebookId: string, user: AuthedUser, body: { resolutions?: unknown; apply?: unknown }) {
    const remote = await this.requireRemote(notebookId);
    const resolutions = parseResolutions(body.resolutions);
    const outcome = await this.writing(notebookId, () =>
      pullFromRemote(this.repo(notebookId), remote, gitIdentity(user), { resolutions }, this.env),
    );
    return this.applyOutcome(notebookId, user, outcome, body.apply !== false);
  }

  close(): void {
    for (const id of [...this.restores.keys()]) this.dropRestore(id);
  }
}

function parseResolutions(input: unknown): Record<string, Resolution> | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'object' || Array.isArray(input))
    throw new PipebookError('bad_request', 'resolutions must map cell ids to "ours" or "theirs".');
  const out: Record<string, Resolution> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v !== 'ours' && v !== 'theirs')
      throw new PipebookError('bad_request', `Resolution for ${k} must be "ours" or "theirs".`);
    out[k] = v;
  }
  return out;
}
