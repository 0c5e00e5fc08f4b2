// Two kernel processes sharing runs through a real redis-server (docs/deployment.md, rules K1-K3 there): any kernel
// takes a run, every client sees its events whichever kernel it asks, results page from either kernel.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRuns } from '@pipebook/shared';
import type { RunCreated, RunEvent } from '@pipebook/shared/protocol/kernel';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisProcess, startRedis } from '../../../collab-server/test/cluster/redis-process.ts';
import { api, createNotebook, newClient, startCollabProcess, waitFor } from '../../../collab-server/test/helpers.ts';
import { notebookFile, SERVICE_SECRET } from '../stack.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'kernel/src/main.ts');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface KernelProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote so far (shown when a test fails). */
  output(): string;
}

async function startKernelProcess(env: Record<string, string>): Promise<KernelProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, PIPEBOOK_KERNEL_PORT: '0', PIPEBOOK_DEMO_DATA: '0', PIPEBOOK_DOC_IDLE_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kernel did not start:\n${out}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    void exited.then(() => reject(new Error(`kernel exited before listening:\n${out}`)));
  });
  return { url, child, output: () => out };
}

/** Every event of a run from one kernel's SSE stream, until run_finished. */
async function events(kernelUrl: string, runId: string): Promise<RunEvent[]> {
  const res = await fetch(`${kernelUrl}/api/runs/${runId}/events`, { signal: AbortSignal.timeout(20_000) });
  if (!res.ok || !res.body) throw new Error(`events: ${res.status} ${await res.text()}`);
  const out: RunEvent[] = [];
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const data = buf
        .slice(0, i)
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      buf = buf.slice(i + 2);
      if (data) out.push(JSON.parse(data) as RunEvent);
    }
  }
  return out;
}

async function health(url: string): Promise<{ cluster?: { redis: string } }> {
  return (await (await fetch(`${url}/healthz`)).json()) as { cluster?: { redis: string } };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}

describe('kernel cluster over Redis', () => {
  it('[K1][K2][K3][K4] two kernels share runs; clients on either kernel see every event; results page from both; a Redis outage degrades to local runs', async () => {
    const redis: RedisProcess = await startRedis();
    cleanups.push(() => redis.cleanup());
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-kcluster-'));
    cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
    const collab = await startCollabProcess({
      PIPEBOOK_HOME: home,
      PIPEBOOK_SERVICE_SECRET: SERVICE_SECRET,
      PIPEBOOK_SEED_DEMO: '0',
      PIPEBOOK_REDIS_URL: redis.url,
    });
    cleanups.push(() => collab.kill());
    const kernelEnv = (n: number) => ({
      PIPEBOOK_HOME: home,
      PIPEBOOK_KERNEL_DIR: path.join(home, `kernel-${n}`),
      PIPEBOOK_COLLAB_URL: collab.url,
      PIPEBOOK_SERVICE_SECRET: SERVICE_SECRET,
      PIPEBOOK_REDIS_URL: redis.url,
    });
    const kernels = await Promise.all([startKernelProcess(kernelEnv(1)), startKernelProcess(kernelEnv(2))]);
    for (const k of kernels) {
      await waitFor(
        async () =>
          ((await (await fetch(`${k.url}/healthz`)).json()) as { cluster?: { redis: string } }).cluster?.redis === 'up',
        10_000,
        'kernel sees redis',
      );
    }
    const id = await createNotebook(collab.url, {
      file: notebookFile([
        { name: 'nums', source: 'SELECT range AS n FROM range(1000)' },
        { name: 'total', source: 'SELECT sum(n) AS s, count(*) AS c FROM nums' },
      ]),
    });
    // A collaborator watching the notebook itself.
    const watcher = newClient(collab.url, id);
    cleanups.push(() => watcher.destroy());
    await watcher.synced();

    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      // Requests alternate between the kernels, as a load balancer would send them.
      const via = kernels[i % 2];
      const other = kernels[(i + 1) % 2];
      const r = await api<RunCreated>(via.url, '/api/runs', {
        method: 'POST',
        body: { notebookId: id, scope: 'all', force: true },
      });
      if (r.status !== 201)
        throw new Error(
          `run refused: ${r.status} ${JSON.stringify(r.body)} ${kernels.map((k) => k.output()).join('\n---\n')}`,
        );
      runIds.push(r.body.runId);
      // Two clients, one on each kernel, both see the whole run.
      const [a, b] = await Promise.all([events(via.url, r.body.runId), events(other.url, r.body.runId)]);
      expect(a.map((e) => `${e.seq}:${e.type}`)).toEqual(b.map((e) => `${e.seq}:${e.type}`));
      expect(a.at(-1)).toMatchObject({ type: 'run_finished', status: 'done' });
      expect(a.filter((e) => e.type === 'cell_finished' && e.status === 'done').length).toBe(2);
    }
    // Both kernels took runs from the shared stream.
    const taken = await Promise.all(kernels.map((k) => metric(k.url, 'pipebook_kernel_cluster_runs_taken_total')));
    expect(taken[0] + taken[1]).toBe(6);
    expect(Math.min(...taken)).toBeGreaterThan(0);
    // The notebook shows the last run's statuses to collaborators.
    await waitFor(
      () => Object.values(readRuns(watcher.doc)).every((r) => r.runId === runIds.at(-1) && r.status === 'done'),
      5000,
      'run statuses in the notebook',
    );
    // The result pages the same from either kernel (one holds it, the other forwards).
    const pages = await Promise.all(
      kernels.map((k) =>
        api<{ rows: unknown[][]; rowCount: number; runId: string }>(k.url, `/api/results/${id}/c_total`),
      ),
    );
    for (const p of pages) {
      expect(p.status).toBe(200);
      expect(p.body.rows).toEqual([[499500, 1000]]);
      // Both serve the latest run's result, never an older one the other kernel still holds.
      expect(p.body.runId).toBe(runIds.at(-1));
    }
    const forwarded = await Promise.all(kernels.map((k) => metric(k.url, 'pipebook_kernel_cluster_forwarded_total')));
    expect(forwarded[0] + forwarded[1]).toBeGreaterThan(0);
    // Run info and cancel of a run another kernel owns are answered too.
    for (const k of kernels) {
      const info = await api<{ runId: string }>(k.url, `/api/runs/${runIds.at(-1)}`);
      expect(info.status).toBe(200);
      expect(info.body.runId).toBe(runIds.at(-1));
    }

    // [K4] Redis away: each kernel reports it and runs what it is asked itself; back: runs are shared again.
    await redis.kill();
    for (const k of kernels) await waitFor(async () => (await health(k.url)).cluster?.redis === 'down', 5000, 'down');
    const alone = await api<RunCreated>(kernels[0].url, '/api/runs', {
      method: 'POST',
      body: { notebookId: id, scope: 'all', force: true },
    });
    expect(alone.status).toBe(201);
    expect((await events(kernels[0].url, alone.body.runId)).at(-1)).toMatchObject({
      type: 'run_finished',
      status: 'done',
    });
    expect(await metric(kernels[0].url, 'pipebook_kernel_cluster_local_fallbacks_total')).toBe(1);
    await redis.restart();
    for (const k of kernels) await waitFor(async () => (await health(k.url)).cluster?.redis === 'up', 5000, 'up');
    const shared = await api<RunCreated>(kernels[1].url, '/api/runs', {
      method: 'POST',
      body: { notebookId: id, scope: 'all', force: true },
    });
    expect(shared.status).toBe(201);
    const [x, y] = await Promise.all(kernels.map((k) => events(k.url, shared.body.runId)));
    expect(x.at(-1)).toMatchObject({ type: 'run_finished', status: 'done' });
    expect(x.map((e) => e.seq)).toEqual(y.map((e) => e.seq));
  });
});
