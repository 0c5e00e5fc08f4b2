// The two servers the collab benchmarks compare: Pipebook's collab server and a plain @y/websocket-server 0.1.1, each
// a real child process on 127.0.0.1, with the process id for CPU and memory readings.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type ServerKind = 'plain' | 'pipebook';

export interface BenchServer {
  kind: ServerKind;
  url: string;
  /** Base for y-websocket clients: the room name is appended. */
  wsBase: string;
  pid: number;
  /** Heap in use after a full garbage collection, and RSS, in bytes (via memory-probe.cjs). */
  memory(): Promise<{ heapUsed: number; rss: number }>;
  /** A room that exists on this server (Pipebook: a created notebook). */
  createRoom(): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // starting
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopper(child: ChildProcess, cleanup: () => void) {
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    cleanup();
  };
}

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-probe.cjs');

function memoryReader(pid: number, file: string) {
  return async () => {
    fs.rmSync(file, { force: true });
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(file) || fs.statSync(file).size === 0) {
      if (Date.now() > deadline) throw new Error('memory probe did not answer');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 20));
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { heapUsed: number; external: number; rss: number };
    return { heapUsed: m.heapUsed + m.external, rss: m.rss };
  };
}

/** PIPEBOOK_BENCH_SERVER_LOG=<prefix>: while tuning, each server's output goes to <prefix>-<kind>.log. */
function serverOutput(kind: ServerKind): 'ignore' | ['ignore', number, number] {
  const prefix = process.env.PIPEBOOK_BENCH_SERVER_LOG;
  if (!prefix) return 'ignore';
  const fd = fs.openSync(`${prefix}-${kind}.log`, 'a');
  return ['ignore', fd, fd];
}

export async function startServer(kind: ServerKind): Promise<BenchServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const memfile = path.join(os.tmpdir(), `pipebook-bench-mem-${process.pid}-${port}.json`);
  // PIPEBOOK_BENCH_NODE_ARGS adds node flags to both servers while tuning (e.g. --cpu-prof).
  const extra = (process.env.PIPEBOOK_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const probeArgs = ['--expose-gc', '--require', PROBE, ...extra];
  if (kind === 'plain') {
    const child = spawn(
      process.execPath,
      [...probeArgs, path.join(ROOT, 'node_modules/@y/websocket-server/src/server.js')],
      {
        env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), PIPEBOOK_BENCH_MEMFILE: memfile },
        stdio: serverOutput(kind),
      },
    );
    await waitHttp(url);
    let n = 0;
    return {
      kind,
      url,
      wsBase: `ws://127.0.0.1:${port}/collab`,
      pid: child.pid as number,
      memory: memoryReader(child.pid as number, memfile),
      createRoom: async () => `room${n++}`,
      stop: stopper(child, () => {}),
    };
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-bench-'));
  const child = spawn(
    process.execPath,
    [...probeArgs, '--import', 'tsx', path.join(ROOT, 'collab-server/src/main.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PIPEBOOK_BENCH_MEMFILE: memfile,
        PIPEBOOK_HOME: home,
        PIPEBOOK_PORT: String(port),
        PIPEBOOK_SEED_DEMO: '0',
        PIPEBOOK_JWT_SECRET: '',
        PIPEBOOK_JWKS_URL: '',
      },
      stdio: serverOutput(kind),
    },
  );
  await waitHttp(`${url}/healthz`);
  return {
    kind,
    url,
    wsBase: `ws://127.0.0.1:${port}/collab`,
    pid: child.pid as number,
    memory: memoryReader(child.pid as number, memfile),
    createRoom: async () => {
      const res = await fetch(`${url}/api/notebooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'bench' }),
      });
      return ((await res.json()) as { id: string }).id;
    },
    stop: stopper(child, () => fs.rmSync(home, { recursive: true, force: true })),
  };
}

/** CPU seconds (user + system) the process has used. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/** Resident memory of the process, in bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/**
 * CPU seconds (user + system) of the process's main thread and of all its other threads together (V8's GC and
 * compiler helpers, libuv's pool doing fsync): where a server's CPU goes besides its event loop.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = tid === String(pid) ? 'main thread' : 'other threads';
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}

/**
 * Runs Linux perf on a process until stop() (as root): `perf stat -e <events>`, or `perf record` into a file when
 * `events` is `record:<file>`. stop() resolves to perf's report.
 */
export function perfStat(pid: number, events: string): { stop(): Promise<string> } {
  const args = events.startsWith('record:')
    ? ['record', '-F', '2000', '-g', '-o', events.slice('record:'.length), '-p', String(pid)]
    : ['stat', '-e', events, '-p', String(pid)];
  const perf = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  perf.stderr.on('data', (d) => {
    out += d;
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        perf.on('close', () => resolve(out.trim()));
        perf.kill('SIGINT');
      }),
  };
}
