import { createRoot, createSignal } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClock } from './clock.ts';

describe('createClock', () => {
  afterEach(() => vi.useRealTimers());

  it('ticks only while active, and stops when its owner is disposed', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    const { now, setActive, dispose } = createRoot((dispose) => {
      const [active, setActive] = createSignal(false);
      return { now: createClock(active, 1000), setActive, dispose };
    });
    vi.advanceTimersByTime(3000);
    expect(now()).toBe(1_000_000);
    setActive(true);
    expect(now()).toBe(1_003_000);
    vi.advanceTimersByTime(2500);
    expect(now()).toBe(1_005_000);
    setActive(false);
    vi.advanceTimersByTime(5000);
    expect(now()).toBe(1_005_000);
    expect(vi.getTimerCount()).toBe(0);
    setActive(true);
    expect(now()).toBe(1_010_500);
    dispose();
    vi.advanceTimersByTime(5000);
    expect(now()).toBe(1_010_500);
    expect(vi.getTimerCount()).toBe(0);
  });
});
