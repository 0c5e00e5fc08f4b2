// A notebook's Git repository under PIPEBOOK_HOME/git/<notebookId>/: snapshots (commits of the layout), reading any
// commit back as a notebook state, history, branches and merge commits. Operations on one repository run one at a
// time (a queue per directory), since snapshots rewrite the working tree.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { NotebookId, type NotebookState, PipebookError } from '@pipebook/shared';
import type { SimpleGit } from 'simple-git';
import { type GitIdentity, gitAt } from './git-cli.ts';
import { filesToState, NOTEBOOK_FILE, stateToFiles } from './layout.ts';
import { type MergeResult, mergeStates, type Resolution } from './merge.ts';
import { validateBranchName, validateRevision } from './names.ts';
import { diffStates, type NotebookDiff } from './notebook-diff.ts';

export const DEFAULT_BRANCH = 'main';
const MAX_TREE_BYTES = 64 * 1024 * 1024;

export interface SnapshotInfo {
  commit: string;
  parents: string[];
  author: { name: string; email: string };
  date: string;
  message: string;
}

export interface BranchInfo {
  name: string;
  commit: string;
  current: boolean;
}

export interface SnapshotResult {
  commit: string;
  /** False when the state equals the last snapshot (no commit was made). */
  created: boolean;
  branch: string;
}

export interface MergeOutcome extends MergeResult {
  /** Merge commit (or the fast-forwarded commit); absent for a dry run or when already up to date. */
  commit?: string;
  kind: 'up_to_date' | 'fast_forward' | 'merge';
}

const EMPTY_STATE: NotebookState = { title: 'Untitled', defaultEngine: 'duckdb', cells: [] };

const queues = new Map<string, Promise<unknown>>();

interface Committed {
  files: Map<string, string>;
  head: string;
  branch: string;
}
/** Per repository directory (shared by every NotebookRepo on it): see NotebookRepo.committed. */
const committedByDir = new Map<string, Committed>();

/** Runs `fn` after every earlier operation on the same repository has finished. */
function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

export function repoDir(home: string, notebookId: string): string {
  if (!NotebookId.isValid(notebookId)) throw new PipebookError('bad_request', 'Invalid notebook id.');
  return join(resolve(home), 'git', notebookId);
}

export class NotebookRepo {
  readonly dir: string;
  private plainGit: SimpleGit | undefined;
  private ready: Promise<void> | undefined;
  /**
   * The files of the last commit this process made, known to equal the working tree, the index and HEAD's tree.
   * With it a snapshot writes and stages only the files that changed (a 300-cell notebook with one edit touches one
   * file); anything that moves HEAD another way (switch, fast-forward) drops it and the next snapshot compares the
   * whole tree.
   */
  private get committed(): Committed | undefined {
    return committedByDir.get(this.dir);
  }
  private set committed(value: Committed | undefined) {
    if (value) committedByDir.set(this.dir, value);
    else committedByDir.delete(this.dir);
  }

  constructor(home: string, notebookId: string) {
    this.dir = repoDir(home, notebookId);
  }

  // Created after the directory exists (simple-git checks it).
  private get git(): SimpleGit {
    this.plainGit ??= gitAt(this.dir);
    return this.plainGit;
  }

  /** A git instance in this repository with an identity and optional per-command config (auth headers). */
  gitWith(opts: { identity?: GitIdentity; config?: Array<[string, string]> }): SimpleGit {
    return gitAt(this.dir, opts);
  }

  /** Runs `fn` exclusively on this repository (after init). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return serialize(this.dir, async () => {
      await this.init();
      return fn();
    });
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const entries = await readdir(this.dir);
      if (!entries.includes('.git')) {
        await this.git.raw(['init', '--quiet', `--initial-branch=${DEFAULT_BRANCH}`]);
      }
      // Contents are written exactly as the notebook holds them; file names stay readable.
      await this.git.raw(['config', 'core.autocrlf', 'false']);
      await this.git.raw(['config', 'core.quotePath', 'false']);
      await this.git.raw(['config', 'gc.auto', '0']);
    })().catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  /** Full commit hash of `rev` (hash or branch), or undefined when it does not name a commit. */
  async tryResolve(rev: string): Promise<string | undefined> {
    const safe = validateRevision(rev);
    if (/^[0-9a-f]{4,64}$/.test(safe) === false && !(await this.branchExists(safe))) return undefined;
    try {
      const out = await this.git.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${safe}^{commit}`]);
      return out.trim() || undefined;
    } catch {
      return undefined;
    }
  }

  private async branchExists(name: string): Promise<boolean> {
    const out = await this.git.raw(['for-each-ref', '--format=%(refname)', `refs/heads/${name}`]);
    return out.trim() === `refs/heads/${name}`;
  }

  async resolve(rev: string): Promise<string> {
    const sha = await this.tryResolve(rev);
    if (!sha) throw new PipebookError('not_found', `No snapshot or branch "${rev}".`);
    return sha;
  }

  async head(): Promise<string | undefined> {
    try {
      return (await this.git.raw(['rev-parse', '--verify', '--quiet', 'HEAD'])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async currentBranch(): Promise<string> {
    return (await this.git.raw(['symbolic-ref', '--short', 'HEAD'])).trim();
  }

  /** Files of a commit: path -> UTF-8 text, read with two git calls whatever the number of cells. */
  async readFiles(commit: string): Promise<Map<string, string>> {
    const listing = await this.git.raw(['ls-tree', '-r', '-l', '-z', '--full-tree', commit]);
    const entries: Array<{ path: string; blob: string; size: number }> = [];
    let total = 0;
    for (const line of listing.split('\0')) {
      if (!line) continue;
      const m = /^\d+ blob ([0-9a-f]+)\s+(\d+)\t(.+)$/s.exec(line);
      if (!m) continue;
      const size = Number(m[2]);
      total += size;
      entries.push({ path: m[3], blob: m[1], size });
    }
    if (total > MAX_TREE_BYTES) throw new PipebookError('too_large', 'This snapshot is too large to read.');
    const files = new Map<string, string>();
    if (!entries.length) return files;
    // `git show <blob>...` prints the blobs back to back; the sizes from ls-tree split them.
    const CHUNK = 500;
    for (let i = 0; i < entries.length; i += CHUNK) {
      const part = entries.slice(i, i + CHUNK);
      const buf = await this.git.showBuffer(part.map((e) => e.blob));
      let at = 0;
      for (const e of part) {
        files.set(e.path, buf.subarray(at, at + e.size).toString('utf8'));
        at += e.size;
      }
    }
    return files;
  }

  async readState(rev: string): Promise<NotebookState> {
    return this.exclusive(async () => filesToState(await this.readFiles(await this.resolve(rev))));
  }

  /** Replaces the working tree with exactly `files`, touching only files whose content differs. */
  private async writeTree(files: Map<string, string>): Promise<void> {
    const existing = await listFiles(this.dir);
    for (const path of existing) {
      if (!files.has(path)) await rm(join(this.dir, path), { force: true });
    }
    for (const [path, content] of files) {
      if (existing.has(path)) {
        const old = await readFile(join(this.dir, path), 'utf8').catch(() => undefined);
        if (old === content) continue;
      }
      await this.writeFileInside(path, content);
    }
  }

  /** Stages the whole working tree and commits it with `parents`; returns the new commit (undefined when unchanged). */
  private async commitTree(
    parents: string[],
    identity: GitIdentity,
    message: string,
    allowUnchanged: boolean,
  ): Promise<string | undefined> {
    await this.git.raw(['add', '--all', '--verbose', '--', '.']);
    const tree = (await this.git.raw(['write-tree'])).trim();
    if (!allowUnchanged && parents.length === 1) {
      const parentTree = (await this.git.raw(['rev-parse', `${parents[0]}^{tree}`])).trim();
      if (parentTree === tree) return undefined;
    }
    return this.commitIndex(parents, identity, message, tree);
  }

  /** Commits the index as it stands with `parents` and moves HEAD (its branch) to the new commit. */
  private async commitIndex(
    parents: string[],
    identity: GitIdentity,
    message: string,
    writtenTree?: string,
  ): Promise<string> {
    const tree = writtenTree ?? (await this.git.raw(['write-tree'])).trim();
    const msgFile = await this.messageFile(message);
    const args = ['commit-tree', tree];
    for (const p of parents) args.push('-p', p);
    args.push('-F', msgFile);
    const commit = (await this.gitWith({ identity }).raw(args)).trim();
    const old = parents[0];
    await this.git.raw(['update-ref', '-m', 'pipebook snapshot', 'HEAD', commit, ...(old ? [old] : [])]);
    return commit;
  }

  /** Commits `state` on the current branch; author is `identity`. */
  snapshot(state: NotebookState, identity: GitIdentity, message: string): Promise<SnapshotResult> {
    return this.exclusive(async () => {
      const files = stateToFiles(state);
      const known = await this.validCommitted();
      if (known) {
        // Fast path: three git calls whatever the notebook's size (stage the changed files, commit, read the hash).
        // Each call prints something on purpose: simple-git waits an extra 50 ms for a process that stays silent.
        const { changed, deleted } = await this.writeChanges(known.files, files);
        if (!changed.length && !deleted.length) return { commit: known.head, created: false, branch: known.branch };
        for (let i = 0; i < changed.length; i += 500) {
          await this.git.raw(['add', '--verbose', '--', ...changed.slice(i, i + 500)]);
        }
        for (let i = 0; i < deleted.length; i += 500) {
          await this.git.raw(['rm', '--cached', '--ignore-unmatch', '--', ...deleted.slice(i, i + 500)]);
        }
        const msgFile = await this.messageFile(message);
        await this.gitWith({ identity }).raw([
          'commit',
          '--no-verify',
          '--no-edit',
          '--cleanup=verbatim',
          '-F',
          msgFile,
        ]);
        const commit = (await this.git.raw(['rev-parse', '--verify', 'HEAD'])).trim();
        this.committed = { files, head: commit, branch: known.branch };
        return { commit, created: true, branch: known.branch };
      }
      const parent = await this.head();
      await this.writeTree(files);
      const commit = await this.commitTree(parent ? [parent] : [], identity, message, !parent);
      const branch = await this.currentBranch();
      this.committed = { files, head: commit ?? parent!, branch };
      return { commit: commit ?? parent!, created: commit !== undefined, branch };
    });
  }

  /** The cached last commit, if HEAD still points at it (checked on the loose ref file, without spawning git). */
  private async validCommitted(): Promise<Committed | undefined> {
    const known = this.committed;
    if (!known) return undefined;
    const head = await readFile(join(this.dir, '.git', 'HEAD'), 'utf8').catch(() => '');
    const ref = await readFile(join(this.dir, '.git', 'refs', 'heads', ...known.branch.split('/')), 'utf8').catch(
      () => '',
    );
    if (head.trim() === `ref: refs/heads/${known.branch}` && ref.trim() === known.head) return known;
    this.committed = undefined;
    return undefined;
  }

  /** The message goes through a file, so user text is never an argument. */
  private async messageFile(message: string): Promise<string> {
    const msgFile = join(this.dir, '.git', 'PIPEBOOK_COMMIT_MSG');
    await writeFile(msgFile, `${message}\n`);
    return msgFile;
  }

  /** Writes the files that differ from `before` and deletes the ones gone; returns both lists. */
  private async writeChanges(
    before: Map<string, string>,
    after: Map<string, string>,
  ): Promise<{ changed: string[]; deleted: string[] }> {
    const changed: string[] = [];
    const deleted: string[] = [];
    for (const [path, content] of after) {
      if (before.get(path) === content) continue;
      await this.writeFileInside(path, content);
      changed.push(path);
    }
    for (const path of before.keys()) {
      if (after.has(path)) continue;
      await rm(join(this.dir, path), { force: true });
      deleted.push(path);
    }
    return { changed, deleted };
  }

  private async writeFileInside(path: string, content: string): Promise<void> {
    const abs = resolve(this.dir, path);
    // Paths come from stateToFiles (safe stems), but never trust a path to stay inside the repository.
    if (!abs.startsWith(this.dir + sep))
      throw new PipebookError('invalid_name', `Refused to write outside the repository: ${path}`);
    await mkdir(abs.slice(0, abs.lastIndexOf(sep)), { recursive: true });
    await writeFile(abs, content);
  }

  history(opts: { rev?: string; limit?: number } = {}): Promise<SnapshotInfo[]> {
    return this.exclusive(async () => {
      const start = opts.rev ? await this.resolve(opts.rev) : await this.head();
      if (!start) return [];
      const limit = Math.max(1, Math.min(opts.limit ?? 100, 1000));
      const out = await this.git.raw([
        'log',
        '-z',
        `--max-count=${limit}`,
        '--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B',
        start,
      ]);
      return out
        .split('\0')
        .filter((r) => r.trim())
        .map((r) => {
          const [commit, parents, name, email, date, ...rest] = r.replace(/^\n/, '').split('\x1f');
          return {
            commit,
            parents: parents ? parents.split(' ') : [],
            author: { name, email },
            date,
            message: rest.join('\x1f').trim(),
          };
        });
    });
  }

  async diff(from: string, to: string): Promise<NotebookDiff> {
    const [a, b] = await Promise.all([this.readState(from), this.readState(to)]);
    return diffStates(a, b);
  }

  branches(): Promise<BranchInfo[]> {
    return this.exclusive(async () => {
      const current = await this.currentBranch();
      const out = await this.git.raw(['for-each-ref', '--format=%(refname:strip=2)%1f%(objectname)', 'refs/heads/']);
      const list = out
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [name, commit] = l.split('\x1f');
          return { name, commit, current: name === current };
        });
      if (!list.some((b) => b.current)) list.unshift({ name: current, commit: '', current: true });
      return list;
    });
  }

  async createBranch(name: string, from?: string): Promise<BranchInfo> {
    const branch = validateBranchName(name);
    return this.exclusive(async () => {
      const start = from ? await this.resolve(from) : await this.head();
      if (!start) throw new PipebookError('conflict', 'Take a first snapshot before creating a branch.');
      if (await this.tryResolve(branch)) throw new PipebookError('conflict', `Branch "${branch}" already exists.`);
      await this.git.raw(['update-ref', '-m', 'pipebook branch', `refs/heads/${branch}`, start, '']);
      return { name: branch, commit: start, current: false };
    });
  }

  /** Makes `name` the current branch; returns its head commit (the caller loads it into the live notebook). */
  async switchBranch(name: string): Promise<string> {
    const branch = validateBranchName(name);
    return this.exclusive(async () => {
      const sha = await this.git
        .raw(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])
        .then((s) => s.trim())
        .catch(() => '');
      if (!sha) throw new PipebookError('not_found', `No branch "${branch}".`);
      await this.git.raw(['symbolic-ref', '-m', 'pipebook switch', 'HEAD', `refs/heads/${branch}`]);
      // Keep the index on the branch; the next snapshot rewrites the working tree and stages all of it.
      await this.git.raw(['read-tree', sha]);
      this.committed = undefined;
      return sha;
    });
  }

  /**
   * Merges commit `theirs` into the current branch, cell by cell. Conflicting cells take `resolutions[id]` (default
   * ours) and are reported; everything else is merged and committed with both parents.
   */
  mergeCommit(
    theirsRev: string,
    identity: GitIdentity,
    opts: { message?: string; resolutions?: Record<string, Resolution>; dryRun?: boolean; label?: string } = {},
  ): Promise<MergeOutcome> {
    return this.exclusive(async () => {
      const ours = await this.head();
      const theirs = await this.resolve(theirsRev);
      if (!ours) {
        const state = filesToState(await this.readFiles(theirs));
        if (!opts.dryRun) {
          await this.git.raw(['update-ref', 'HEAD', theirs]);
          this.committed = undefined;
        }
        return {
          kind: 'fast_forward',
          commit: opts.dryRun ? undefined : theirs,
          state,
          conflicts: [],
          metaConflicts: [],
        };
      }
      const base = await this.git
        .raw(['merge-base', ours, theirs])
        .then((s) => s.trim())
        .catch(() => '');
      if (base === theirs || ours === theirs) {
        const state = filesToState(await this.readFiles(ours));
        return { kind: 'up_to_date', state, conflicts: [], metaConflicts: [] };
      }
      if (base === ours) {
        const state = filesToState(await this.readFiles(theirs));
        if (!opts.dryRun) {
          await this.git.raw(['update-ref', '-m', 'pipebook fast-forward', 'HEAD', theirs, ours]);
          this.committed = undefined;
        }
        return {
          kind: 'fast_forward',
          commit: opts.dryRun ? undefined : theirs,
          state,
          conflicts: [],
          metaConflicts: [],
        };
      }
      const [baseState, ourState, theirState] = await Promise.all([
        base ? this.readFiles(base).then(filesToState) : Promise.resolve(EMPTY_STATE),
        this.readFiles(ours).then(filesToState),
        this.readFiles(theirs).then(filesToState),
      ]);
      const result = mergeStates(baseState, ourState, theirState, opts.resolutions);
      if (opts.dryRun) return { kind: 'merge', ...result };
      const mergedFiles = stateToFiles(result.state);
      await this.writeTree(mergedFiles);
      const label = opts.label ?? theirsRev;
      const conflictNote = result.conflicts.length
        ? `\n\nConflicting cells (${result.conflicts.length}):\n${result.conflicts
            .map((c) => `- ${c.name} (${c.id}): ${c.reason}, kept ${c.resolution}`)
            .join('\n')}`
        : '';
      const message = `${opts.message ?? `Merge ${label}`}${conflictNote}`;
      const commit = await this.commitTree([ours, theirs], identity, message, true);
      this.committed = commit ? { files: mergedFiles, head: commit, branch: await this.currentBranch() } : undefined;
      return { kind: 'merge', commit, ...result };
    });
  }
}

async function listFiles(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.git' && dir === root) continue;
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) await walk(abs);
      else out.add(relative(root, abs).split(sep).join('/'));
    }
  };
  await walk(root);
  return out;
}

export { NOTEBOOK_FILE };
