// The one place git runs: the real git CLI through simple-git, with an environment we build ourselves (never the
// server's whole environment), so a user's global config, editors, pagers or credential helpers never apply and
// only http(s) transports are allowed.
import { tmpdir } from 'node:os';
import { PipebookError } from '@pipebook/shared';
import { type SimpleGit, simpleGit } from 'simple-git';

export interface GitIdentity {
  name: string;
  email: string;
}

/** Extra git config passed through GIT_CONFIG_COUNT (e.g. an auth header), so it never lands in argv or .git/config. */
export type GitConfigPairs = Array<[key: string, value: string]>;

export function gitEnv(opts: { identity?: GitIdentity; config?: GitConfigPairs } = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_AUTHOR_NAME: 'Pipebook',
    GIT_AUTHOR_EMAIL: 'pipebook@users.pipebook.invalid',
    GIT_COMMITTER_NAME: 'Pipebook',
    GIT_COMMITTER_EMAIL: 'pipebook@users.pipebook.invalid',
  };
  if (opts.identity) {
    env.GIT_AUTHOR_NAME = opts.identity.name;
    env.GIT_AUTHOR_EMAIL = opts.identity.email;
    env.GIT_COMMITTER_NAME = opts.identity.name;
    env.GIT_COMMITTER_EMAIL = opts.identity.email;
  }
  const pairs = opts.config ?? [];
  if (pairs.length) {
    env.GIT_CONFIG_COUNT = String(pairs.length);
    pairs.forEach(([k, v], i) => {
      if (/[\r\n\0]/.test(k) || /[\r\n\0]/.test(v))
        throw new PipebookError('bad_request', 'Git config values cannot contain line breaks.');
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
  }
  return env;
}

/**
 * A simple-git instance for `dir`. simple-git refuses GIT_* variables by default because they are dangerous when
 * they come from a caller; here they are built by gitEnv from fixed keys, so exactly those are allowed and
 * every other protection (unsafe options such as --upload-pack, -c core.sshCommand, ...) stays on.
 */
export function gitAt(dir: string, opts: { identity?: GitIdentity; config?: GitConfigPairs } = {}): SimpleGit {
  const env = gitEnv(opts);
  return simpleGit({
    baseDir: dir,
    maxConcurrentProcesses: 4,
    trimmed: false,
    allowEnvironment: Object.keys(env),
    unsafe: { allowUnsafeConfigPaths: true, allowUnsafeConfigEnvCount: true },
  }).env(env);
}
