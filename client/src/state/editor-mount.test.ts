import { describe, expect, it } from 'vitest';
import { createMountQueue } from './editor-mount.ts';

describe('editor mount queue', () => {
  it('mounts in priority order across time slices, mounts on demand, then reports idle', async () => {
    const tasks: Array<() => void> = [];
    const q = createMountQueue(-1, (cb) => tasks.push(cb));
    const mounted: string[] = [];
    let idle = false;
    for (const [id, prio] of [
      ['a', 3],
      ['b', 1],
      ['c', 2],
      ['d', 4],
    ] as const)
      q.add(
        id,
        () => mounted.push(id),
        () => prio,
      );
    q.onIdle(() => {
      idle = true;
    });
    q.now('d');
    expect(mounted).toEqual(['d']);
    // With a negative slice every pump mounts one editor and yields.
    while (tasks.length) tasks.shift()!();
    expect(mounted).toEqual(['d', 'b', 'c', 'a']);
    await Promise.resolve();
    expect(idle).toBe(true);
    expect(q.pending()).toBe(0);
  });
});
