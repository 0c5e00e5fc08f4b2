import { describe, expect, it } from 'vitest';
import { RunQueue } from './queue.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('RunQueue', () => {
  it('[R11] never runs more than its slots, and one notebook keeps a slot free for others', async () => {
    const q = new RunQueue(3);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const job = (nb: string, name: string) => {
      const g = deferred();
      gates.set(name, g);
      q.enqueue({
        notebookId: nb,
        runId: `${nb}-run`,
        start: async () => {
          started.push(name);
          await g.promise;
        },
        drop: () => {},
      });
    };
    for (const n of ['a1', 'a2', 'a3', 'a4']) job('A', n);
    await Promise.resolve();
    expect(started).toEqual(['a1', 'a2']);
    job('B', 'b1');
    await Promise.resolve();
    expect(started).toEqual(['a1', 'a2', 'b1']);
    expect(q.stats()).toEqual({ active: 3, waiting: 2 });
    gates.get('b1')!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(['a1', 'a2', 'b1']);
    gates.get('a1')!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
  });

  it('[R11] serves waiting notebooks round-robin', async () => {
    const q = new RunQueue(2, 1);
    const order: string[] = [];
    const hold = deferred();
    q.enqueue({ notebookId: 'X', runId: 'x', start: () => hold.promise, drop: () => {} });
    for (const [nb, n] of [
      ['A', 'a1'],
      ['A', 'a2'],
      ['B', 'b1'],
      ['B', 'b2'],
    ]) {
      q.enqueue({ notebookId: nb, runId: nb, start: async () => void order.push(n), drop: () => {} });
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['a1', 'b1', 'a2', 'b2']);
    hold.resolve();
  });

  it('[R10] cancelling a run drops its waiting jobs', async () => {
    const q = new RunQueue(1);
    const hold = deferred();
    const dropped: string[] = [];
    q.enqueue({ notebookId: 'A', runId: 'r1', start: () => hold.promise, drop: () => dropped.push('first') });
    q.enqueue({ notebookId: 'A', runId: 'r1', start: async () => {}, drop: () => dropped.push('second') });
    q.enqueue({ notebookId: 'B', runId: 'r2', start: async () => {}, drop: () => dropped.push('other') });
    expect(q.cancelRun('r1')).toBe(1);
    expect(dropped).toEqual(['second']);
    expect(q.stats().waiting).toBe(1);
    hold.resolve();
  });
});
