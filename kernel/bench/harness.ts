// What the kernel benchmarks share: a real collaboration server and a real kernel process (so the kernel's memory
// is its own), notebooks created through the collab API, runs timed from request to the `run_finished` event.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipebookFile } from '@pipebook/shared';
import type { RunCreated, RunEvent, RunRequest } from '@pipebook/shared/protocol/kernel';
import { type CollabProcess, createNotebook, startCollabProcess } from '../../collab-server/test/helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchStack {
  collab: CollabProcess;
  kernelUrl: string;
  kernel: ChildProcess;
  home: string;
  /** Peak resident set size of the kernel process so far (VmHWM), in MB. */
  kernelPeakRssMb(): number;
  kernelRssMb(): number;
  createNotebook(file: PipebookFile): Promise<string>;
  /** Starts a run and reads its events: with `stream`, in the POST's own response; otherwise with a second request. */
  run(req: RunRequest, opts?: { stream?: boolean }): Promise<{ created: RunCreated; events: RunEvent[]; ms: number }>;
  cleanup(): Promise<void>;
}

function procStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export async function readEvents(url: string, runId: string): Promise<RunEvent[]> {
  const res = await fetch(`${url}/api/runs/${runId}/events`);
  return parseEvents(await res.text());
}

function parseEvents(text: string): RunEvent[] {
  return text
    .split('\n\n')
    .map((f) => f.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => !!l)
    .map((l) => JSON.parse(l.slice(6)) as RunEvent);
}

export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-bench-kernel-'));
  const secret = 'bench-service-secret-0123456789abcdef';
  const collab = await startCollabProcess({
    PIPEBOOK_HOME: home,
    PIPEBOOK_SERVICE_SECRET: secret,
    PIPEBOOK_SEED_DEMO: '0',
  });
  const kernel = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'kernel/src/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PIPEBOOK_HOME: home,
      PIPEBOOK_KERNEL_PORT: '0',
      PIPEBOOK_COLLAB_URL: collab.url,
      PIPEBOOK_SERVICE_SECRET: secret,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const kernelUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kernel did not start:\n${output}`)), 60_000);
    kernel.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    kernel.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    kernel.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kernel exited (${code}):\n${output}`));
    });
  });
  return {
    collab,
    kernelUrl,
    kernel,
    home,
    kernelPeakRssMb: () => procStatusMb(kernel.pid!, 'VmHWM'),
    kernelRssMb: () => procStatusMb(kernel.pid!, 'VmRSS'),
    createNotebook: (file) => createNotebook(collab.url, { file }),
    async run(req, opts = {}) {
      const t0 = performance.now();
      const res = await fetch(`${kernelUrl}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.stream ? { accept: 'text/event-stream' } : {}) },
        body: JSON.stringify(req),
      });
      if (!res.ok) throw new Error(`run refused: ${res.status} ${await res.text()}`);
      let created: RunCreated;
      let events: RunEvent[];
      if (opts.stream) {
        events = parseEvents(await res.text());
        const first = events[0];
        if (first?.type !== 'run_queued') throw new Error('stream did not start with run_queued');
        created = {
          protocolVersion: 1,
          runId: first.runId,
          notebookId: first.notebookId,
          scope: req.scope ?? 'cell',
          cells: first.cells,
        };
      } else {
        created = (await res.json()) as RunCreated;
        events = await readEvents(kernelUrl, created.runId);
      }
      const ms = performance.now() - t0;
      const last = events.at(-1);
      if (last?.type !== 'run_finished' || last.status !== 'done') {
        throw new Error(
          `run did not finish cleanly: ${JSON.stringify(events.filter((e) => e.type === 'cell_finished'))}`,
        );
      }
      return { created, events, ms };
    },
    async cleanup() {
      if (kernel.exitCode === null) {
        kernel.kill('SIGTERM');
        await new Promise((r) => kernel.once('exit', r));
      }
      await collab.cleanup();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export function notebook(cells: Array<{ id: string; name: string; source: string }>, title = 'Bench'): PipebookFile {
  return {
    format: 'pipebook',
    version: 1,
    title,
    defaultEngine: 'duckdb',
    cells: cells.map((c) => ({ ...c, kind: 'sql' as const, config: {} })),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export function writeResults(file: string, data: unknown): void {
  const dir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, file), `${JSON.stringify(data, null, 2)}\n`);
}

export const machine = () => ({
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  node: process.version,
  date: new Date().toISOString(),
});
