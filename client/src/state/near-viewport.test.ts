import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNearViewport } from './near-viewport.ts';

/** A stand-in IntersectionObserver: the test decides what intersects, as the browser would on scroll. */
class FakeObserver {
  static last: FakeObserver;
  readonly observed = new Set<Element>();
  constructor(
    readonly callback: (entries: Array<{ target: Element; isIntersecting: boolean }>) => void,
    readonly options: { rootMargin?: string },
  ) {
    FakeObserver.last = this;
  }
  observe(el: Element) {
    this.observed.add(el);
  }
  unobserve(el: Element) {
    this.observed.delete(el);
  }
  report(el: Element, isIntersecting: boolean) {
    if (this.observed.has(el)) this.callback([{ target: el, isIntersecting }]);
  }
}

describe('near-viewport tracking', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reports each watched element as it enters and leaves the margin, and forgets it when unwatched', () => {
    vi.stubGlobal('IntersectionObserver', FakeObserver);
    const near = createNearViewport(2);
    expect(FakeObserver.last.options.rootMargin).toBe('200% 0px');
    const a = document.createElement('section');
    const b = document.createElement('section');
    const seenA: boolean[] = [];
    const seenB: boolean[] = [];
    const stopA = near.watch(a, (v) => seenA.push(v));
    near.watch(b, (v) => seenB.push(v));
    FakeObserver.last.report(a, false);
    FakeObserver.last.report(b, true);
    FakeObserver.last.report(a, true);
    expect(seenA).toEqual([false, true]);
    expect(seenB).toEqual([true]);
    stopA();
    FakeObserver.last.report(a, false);
    expect(seenA).toEqual([false, true]);
  });

  it('measures the first position from layout: within two screens is near, beyond is not', () => {
    vi.stubGlobal('IntersectionObserver', FakeObserver);
    const near = createNearViewport(2);
    const el = document.createElement('section');
    const at = (top: number) =>
      vi.spyOn(el, 'getBoundingClientRect').mockReturnValue({ top, bottom: top + 100 } as DOMRect);
    const h = window.innerHeight;
    at(h * 2.5);
    expect(near.isNear(el)).toBe(true);
    at(h * 3.5);
    expect(near.isNear(el)).toBe(false);
    at(-h * 3);
    expect(near.isNear(el)).toBe(false);
  });

  it('treats everything as near where the browser has no IntersectionObserver', () => {
    vi.stubGlobal('IntersectionObserver', undefined);
    const near = createNearViewport();
    const seen: boolean[] = [];
    near.watch(document.createElement('div'), (v) => seen.push(v));
    expect(seen).toEqual([true]);
    expect(near.isNear(document.createElement('div'))).toBe(true);
  });
});
