import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSessionGrace } from './session-grace.ts';

describe('Spark session grace period', () => {
  afterEach(() => vi.useRealTimers());

  it('frees a closed notebook’s sessions only after the grace period, unless it is used again', () => {
    vi.useFakeTimers();
    const released: string[] = [];
    const grace = createSessionGrace(60_000, (id) => released.push(id));
    grace.closed('a');
    grace.closed('b');
    vi.advanceTimersByTime(59_999);
    expect(released).toEqual([]);
    grace.opened('b'); // someone runs a cell of b again
    vi.advanceTimersByTime(1);
    expect(released).toEqual(['a']);
    vi.advanceTimersByTime(600_000);
    expect(released).toEqual(['a']);
    // Closed again later: the period starts over from then.
    grace.closed('b');
    vi.advanceTimersByTime(30_000);
    grace.closed('b');
    vi.advanceTimersByTime(59_999);
    expect(released).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(released).toEqual(['a', 'b']);
    expect(grace.pending()).toBe(0);
  });

  it('frees at once with no grace period, and forgets pending releases at shutdown', () => {
    vi.useFakeTimers();
    const released: string[] = [];
    createSessionGrace(0, (id) => released.push(id)).closed('x');
    expect(released).toEqual(['x']);
    const grace = createSessionGrace(1000, (id) => released.push(id));
    grace.closed('y');
    grace.close();
    vi.advanceTimersByTime(5000);
    expect(released).toEqual(['x']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
