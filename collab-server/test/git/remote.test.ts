// Push and pull against a real git smart-HTTP server on loopback, with bearer and basic auth.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CellSnapshot, demoNotebookFile, fileToState, type NotebookState } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIdentity } from '../../src/git/names.ts';
import { pullFromRemote, pushToRemote, readRemote, validateRemoteConfig, writeRemote } from '../../src/git/remote.ts';
import { NotebookRepo } from '../../src/git/repo.ts';
import { type GitHttpServer, startGitHttpServer } from './git-http-server.ts';

const TOKEN = 's3cr3t-token-value';
const ada = gitIdentity({ id: 'ada', name: 'Ada' });
let home: string;
let server: GitHttpServer;
const env = { PIPEBOOK_GIT_TOKEN: TOKEN, PIPEBOOK_GIT_WRONG: 'nope', PIPEBOOK_GIT_BASIC: 'pw-basic' };

const edit = (s: NotebookState, id: string, patch: Partial<CellSnapshot>): NotebookState => ({
  ...s,
  cells: s.cells.map((c) => (c.id === id ? { ...c, ...patch } : c)),
});

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pipebook-remote-'));
  server = await startGitHttpServer(join(home, 'server'), {
    bearer: TOKEN,
    basic: { user: 'ada', password: 'pw-basic' },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

function grepTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

describe('remotes over HTTP', () => {
  it('pushes with a bearer token, pulls a collaborator change, and never stores the token', async () => {
    const url = server.createRepo('shared');
    const remote = validateRemoteConfig({ url, tokenEnv: 'PIPEBOOK_GIT_TOKEN' });
    await writeRemote(home, 'nb_a', remote);
    expect(await readRemote(home, 'nb_a')).toEqual(remote);

    const a = new NotebookRepo(home, 'nb_a');
    const base = fileToState(demoNotebookFile());
    const snap = await a.snapshot(base, ada, 'First');
    expect(await pushToRemote(a, remote, env)).toMatchObject({ branch: 'main', commit: snap.commit, status: 'new' });
    expect(
      execFileSync('git', ['rev-parse', 'main'], { cwd: join(home, 'server', 'shared.git') })
        .toString()
        .trim(),
    ).toBe(snap.commit);
    expect(server.seenAuth).toContain(`Bearer ${TOKEN}`);

    // A second notebook pulls it (fast-forward), edits, pushes; the first pulls the change back.
    const b = new NotebookRepo(home, 'nb_b');
    const first = await pullFromRemote(b, remote, ada, {}, env);
    expect(first.kind).toBe('fast_forward');
    expect(first.state).toEqual(base);
    await b.snapshot(edit(base, 'demo_orders_clean', { source: 'SELECT 1 AS x' }), ada, 'From B');
    expect((await pushToRemote(b, remote, env)).status).toBe('updated');

    await a.snapshot(edit(base, 'demo_intro', { source: '# A was here' }), ada, 'From A');
    // A is behind: pushing is refused with a clear message.
    await expect(pushToRemote(a, remote, env)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('pull first'),
    });
    const pulled = await pullFromRemote(a, remote, ada, {}, env);
    expect(pulled.kind).toBe('merge');
    expect(pulled.conflicts).toEqual([]);
    const merged = await a.readState('main');
    expect(merged.cells.find((c) => c.id === 'demo_orders_clean')!.source).toBe('SELECT 1 AS x');
    expect(merged.cells.find((c) => c.id === 'demo_intro')!.source).toBe('# A was here');
    expect((await pushToRemote(a, remote, env)).status).toBe('updated');

    // The token appears nowhere on disk: not in .git/config, not in the remote file, not in any object.
    expect(grepTree(home, TOKEN).filter((p) => !p.includes(`${join(home, 'server')}/`))).toEqual([]);
    expect(readFileSync(join(a.dir, '.git', 'config'), 'utf8')).not.toContain('extraHeader');
  });

  it('supports basic auth (username + token)', async () => {
    const url = server.createRepo('basic');
    const remote = validateRemoteConfig({ url, tokenEnv: 'PIPEBOOK_GIT_BASIC', auth: 'basic', username: 'ada' });
    const repo = new NotebookRepo(home, 'nb_basic');
    await repo.snapshot(fileToState(demoNotebookFile()), ada, 'x');
    expect((await pushToRemote(repo, remote, env)).status).toBe('new');
  });

  it('reports authentication failures clearly and without the token', async () => {
    const url = server.createRepo('locked');
    const repo = new NotebookRepo(home, 'nb_auth');
    await repo.snapshot(fileToState(demoNotebookFile()), ada, 'x');
    const wrong = validateRemoteConfig({ url, tokenEnv: 'PIPEBOOK_GIT_WRONG' });
    const err = await pushToRemote(repo, wrong, env).catch((e) => e);
    expect(err).toMatchObject({ code: 'unauthorized' });
    expect(err.message).toMatch(/refused the credentials from PIPEBOOK_GIT_WRONG/);
    expect(err.message).not.toContain('nope');
    await expect(pullFromRemote(repo, wrong, ada, {}, env)).rejects.toMatchObject({ code: 'unauthorized' });
    const none = validateRemoteConfig({ url });
    await expect(pushToRemote(repo, none, env)).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('requires authentication'),
    });
    const unset = validateRemoteConfig({ url, tokenEnv: 'PIPEBOOK_GIT_UNSET' });
    await expect(pushToRemote(repo, unset, env)).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('refuses hostile remote settings', () => {
    for (const url of [
      '--upload-pack=touch /tmp/x',
      'ext::sh -c touch% /tmp/x',
      'file:///etc',
      '/tmp/repo.git',
      'http://user:pw@host/x.git',
      'ssh://host/x',
    ]) {
      expect(() => validateRemoteConfig({ url })).toThrow();
    }
    expect(() => validateRemoteConfig({ url: 'https://example.com/x.git', tokenEnv: 'PIPEBOOK_JWT_SECRET' })).toThrow(
      /PIPEBOOK_GIT_/,
    );
    expect(() => validateRemoteConfig({ url: 'https://example.com/x.git', branch: '--force' })).toThrow(
      /Invalid branch name/,
    );
  });
});
