// Push and pull over HTTP(S). The remote URL and the *name* of the environment variable holding the token are kept
// server-side (PIPEBOOK_HOME/git/<notebookId>.remote.json); the token itself is read from the environment per
// command and handed to git as an `http.extraHeader` through GIT_CONFIG_* variables, so it is never written to the
// repository config, never on a command line, and never in a log or error message.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { NotebookId, PipebookError } from '@pipebook/shared';
import type { GitConfigPairs, GitIdentity } from './git-cli.ts';
import { validateBranchName } from './names.ts';
import type { MergeOutcome, NotebookRepo } from './repo.ts';

export interface RemoteConfig {
  url: string;
  /** Environment variable holding the token; must start with PIPEBOOK_GIT_ so no other server secret can be sent. */
  tokenEnv?: string;
  /** `bearer` sends `Authorization: Bearer <token>`; `basic` sends `<username>:<token>` (GitHub, GitLab, Gitea). */
  auth?: 'bearer' | 'basic';
  username?: string;
  /** Remote branch to push to and pull from; default: the current branch. */
  branch?: string;
}

/** What clients may see of a remote: never the token, only whether it is configured and present. */
export interface RemoteView extends RemoteConfig {
  tokenPresent: boolean;
}

export const TOKEN_ENV_PATTERN = /^PIPEBOOK_GIT_[A-Z0-9_]{1,64}$/;

/**
 * PIPEBOOK_GIT_REMOTE_HOSTS (comma-separated, `*.example.com` allowed) limits which hosts owners may point a remote
 * at, so the server cannot be used to reach arbitrary internal addresses; unset = any host.
 */
export function hostAllowed(host: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const list = (env.PIPEBOOK_GIT_REMOTE_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!list.length) return true;
  const h = host.toLowerCase();
  return list.some((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) : h === p));
}

export function validateRemoteConfig(input: unknown, env: NodeJS.ProcessEnv = process.env): RemoteConfig {
  if (!input || typeof input !== 'object')
    throw new PipebookError('bad_request', 'Expected a remote: { url, tokenEnv?, auth?, username?, branch? }.');
  const r = input as Record<string, unknown>;
  if (typeof r.url !== 'string' || r.url.length > 2000 || /[\s\0]/.test(r.url)) {
    throw new PipebookError('invalid_config', 'The remote URL must be an http(s) URL without spaces.');
  }
  let url: URL;
  try {
    url = new URL(r.url);
  } catch {
    throw new PipebookError('invalid_config', 'The remote URL is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PipebookError('invalid_config', 'Only http:// and https:// remotes are supported.');
  }
  if (!hostAllowed(url.host, env) && !hostAllowed(url.hostname, env)) {
    throw new PipebookError(
      'forbidden',
      `Remotes on ${url.host} are not allowed on this server (PIPEBOOK_GIT_REMOTE_HOSTS).`,
    );
  }
  if (url.username || url.password) {
    throw new PipebookError(
      'invalid_config',
      'Put credentials in a server environment variable (tokenEnv), not in the URL.',
    );
  }
  const out: RemoteConfig = { url: url.toString() };
  if (r.tokenEnv !== undefined && r.tokenEnv !== '') {
    if (typeof r.tokenEnv !== 'string' || !TOKEN_ENV_PATTERN.test(r.tokenEnv)) {
      throw new PipebookError(
        'invalid_config',
        'tokenEnv must name an environment variable starting with PIPEBOOK_GIT_ (e.g. PIPEBOOK_GIT_TOKEN).',
      );
    }
    out.tokenEnv = r.tokenEnv;
  }
  if (r.auth !== undefined) {
    if (r.auth !== 'bearer' && r.auth !== 'basic')
      throw new PipebookError('invalid_config', 'auth must be "bearer" or "basic".');
    out.auth = r.auth;
  }
  if (r.username !== undefined && r.username !== '') {
    if (typeof r.username !== 'string' || !/^[A-Za-z0-9._@+-]{1,100}$/.test(r.username)) {
      throw new PipebookError('invalid_config', 'username may hold letters, digits and . _ @ + - only.');
    }
    out.username = r.username;
  }
  if (r.branch !== undefined && r.branch !== '') out.branch = validateBranchName(r.branch);
  return out;
}

function remoteFile(home: string, notebookId: string): string {
  if (!NotebookId.isValid(notebookId)) throw new PipebookError('bad_request', 'Invalid notebook id.');
  return join(resolve(home), 'git', `${notebookId}.remote.json`);
}

export async function readRemote(
  home: string,
  notebookId: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RemoteConfig | undefined> {
  try {
    return validateRemoteConfig(JSON.parse(await readFile(remoteFile(home, notebookId), 'utf8')), env);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function writeRemote(home: string, notebookId: string, remote: RemoteConfig | undefined): Promise<void> {
  const file = remoteFile(home, notebookId);
  if (!remote) {
    await rm(file, { force: true });
    return;
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(remote, null, 2)}\n`, { mode: 0o600 });
}

export function viewRemote(remote: RemoteConfig, env: NodeJS.ProcessEnv = process.env): RemoteView {
  return { ...remote, tokenPresent: Boolean(remote.tokenEnv && env[remote.tokenEnv]) };
}

/** The auth header as git config pairs, plus the secret to scrub from any message. */
export function remoteAuth(
  remote: RemoteConfig,
  env: NodeJS.ProcessEnv = process.env,
): { config: GitConfigPairs; secret?: string } {
  if (!remote.tokenEnv) return { config: [] };
  const token = env[remote.tokenEnv];
  if (!token) {
    throw new PipebookError(
      'invalid_config',
      `The server has no ${remote.tokenEnv} set, so it cannot authenticate to the remote.`,
    );
  }
  if (/[\r\n\0]/.test(token))
    throw new PipebookError('invalid_config', `${remote.tokenEnv} holds a line break; it must be a single-line token.`);
  const header =
    remote.auth === 'basic'
      ? `Authorization: Basic ${Buffer.from(`${remote.username ?? 'git'}:${token}`).toString('base64')}`
      : `Authorization: Bearer ${token}`;
  return { config: [['http.extraHeader', header]], secret: token };
}

/** Turns a git failure into a PipebookError a user can act on, with no secret and no stack. */
export function remoteError(e: unknown, remote: RemoteConfig, secret?: string): PipebookError {
  let text = e instanceof Error ? e.message : String(e);
  if (secret) text = text.split(secret).join('***');
  text = text.replace(/Authorization: \S+ \S+/gi, 'Authorization: ***');
  const where = new URL(remote.url).host;
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|\b401\b/i.test(text)) {
    return new PipebookError(
      'unauthorized',
      remote.tokenEnv
        ? `The remote ${where} refused the credentials from ${remote.tokenEnv} (authentication failed). Check the token and its permissions.`
        : `The remote ${where} requires authentication: set tokenEnv on the remote and the token in the server's environment.`,
    );
  }
  if (/\b403\b|forbidden|permission denied/i.test(text)) {
    return new PipebookError('forbidden', `The remote ${where} denied access with these credentials (HTTP 403).`);
  }
  if (/\b404\b|not found|does not appear to be a git repository/i.test(text)) {
    return new PipebookError('not_found', `No git repository at ${remote.url}.`);
  }
  if (/non-fast-forward|\[rejected\]|fetch first|failed to push some refs/i.test(text)) {
    return new PipebookError(
      'conflict',
      'The remote has snapshots this notebook does not have: pull first, then push.',
    );
  }
  if (/couldn't find remote ref/i.test(text)) {
    return new PipebookError('not_found', `The remote has no branch ${remote.branch ?? '(current)'} yet: push first.`);
  }
  if (/Could not resolve host|Failed to connect|Connection refused|timed out/i.test(text)) {
    return new PipebookError('engine_unavailable', `Cannot reach the remote ${where}.`);
  }
  const first = text.split('\n').find((l) => l.trim()) ?? 'git failed';
  return new PipebookError('internal', `Git remote operation failed: ${first.slice(0, 300)}`);
}

export interface PushResult {
  branch: string;
  commit: string;
  /** Porcelain status: `up_to_date`, `new` or `updated`. */
  status: 'up_to_date' | 'new' | 'updated';
}

export async function pushToRemote(
  repo: NotebookRepo,
  remote: RemoteConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PushResult> {
  const { config, secret } = remoteAuth(remote, env);
  return repo.exclusive(async () => {
    const commit = await repo.head();
    if (!commit) throw new PipebookError('conflict', 'Take a snapshot before pushing.');
    const local = await repo.currentBranch();
    const branch = remote.branch ?? local;
    let out: string;
    try {
      out = await repo
        .gitWith({ config })
        .raw(['push', '--porcelain', '--', remote.url, `refs/heads/${local}:refs/heads/${branch}`]);
    } catch (e) {
      throw remoteError(e, remote, secret);
    }
    const status = /\[up to date\]/.test(out) ? 'up_to_date' : /\[new branch\]/.test(out) ? 'new' : 'updated';
    return { branch, commit, status };
  });
}

/** Fetches the remote branch and merges it into the current branch cell by cell (see NotebookRepo.mergeCommit). */
export async function pullFromRemote(
  repo: NotebookRepo,
  remote: RemoteConfig,
  identity: GitIdentity,
  opts: { resolutions?: Record<string, 'ours' | 'theirs'> } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<MergeOutcome & { fetched: string }> {
  const { config, secret } = remoteAuth(remote, env);
  const { fetched, branch } = await repo.exclusive(async () => {
    const branch = remote.branch ?? (await repo.currentBranch());
    const git = repo.gitWith({ config });
    try {
      await git.raw([
        'fetch',
        '--no-tags',
        '--quiet',
        '--',
        remote.url,
        `+refs/heads/${branch}:refs/pipebook/remote/${branch}`,
      ]);
    } catch (e) {
      throw remoteError(e, { ...remote, branch }, secret);
    }
    const sha = (await git.raw(['rev-parse', '--verify', `refs/pipebook/remote/${branch}^{commit}`])).trim();
    return { fetched: sha, branch };
  });
  const outcome = await repo.mergeCommit(fetched, identity, {
    resolutions: opts.resolutions,
    label: `${branch} from ${new URL(remote.url).host}`,
  });
  return { ...outcome, fetched };
}
