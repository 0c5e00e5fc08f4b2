// Spawning benchmark client processes and talking to them.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './ipc.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');

export class Worker {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ type: FromWorker['type']; resolve: (m: FromWorker) => void }> = [];
  private readonly ready: Promise<FromWorker>;

  constructor() {
    this.child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx', ...(process.env.PIPEBOOK_BENCH_WORKER_ARGS ?? '').split(' ').filter(Boolean)],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromWorker) => {
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(m);
    });
    this.ready = this.next('ready');
  }

  private next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve) => this.waiting.push({ type, resolve: resolve as (m: FromWorker) => void }));
  }

  async request<T extends FromWorker['type']>(msg: ToWorker, reply: T): Promise<Extract<FromWorker, { type: T }>> {
    await this.ready;
    const answer = this.next(reply);
    this.child.send(msg);
    return answer;
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export function workers(n: number): Worker[] {
  return Array.from({ length: n }, () => new Worker());
}

/** Splits `items` into `n` nearly equal parts. */
export function split<T>(items: T[], n: number): T[][] {
  const parts: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => {
    parts[i % n].push(item);
  });
  return parts;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)];
}
