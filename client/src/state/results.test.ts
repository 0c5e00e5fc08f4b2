import type { ResultPage } from '@pipebook/shared/protocol/kernel';
import { createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { createResultPager, pagesFor, visibleWindow } from './results.ts';

function fakeKernel(total: number, runId = () => 'r1') {
  const calls: Array<[number, number]> = [];
  const fetch = async (offset: number, limit: number): Promise<ResultPage> => {
    calls.push([offset, limit]);
    const rows = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push([i, `row ${i}`]);
    return {
      notebookId: 'n',
      cellId: 'c',
      runId: runId(),
      inputHash: 'h',
      engine: 'duckdb',
      columns: [
        { name: 'i', type: 'BIGINT' },
        { name: 's', type: 'VARCHAR' },
      ],
      rowCount: total,
      offset,
      limit,
      rows,
    };
  };
  return { fetch, calls };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('result paging', () => {
  it('computes the pages a range needs', () => {
    expect(pagesFor(0, 1, 100)).toEqual([0]);
    expect(pagesFor(150, 320, 100)).toEqual([1, 2, 3]);
    expect(pagesFor(5, 5, 100)).toEqual([]);
  });

  it('computes the visible window with overscan, clamped to the row count', () => {
    expect(visibleWindow(0, 260, 26, 1000, 10)).toEqual({ start: 0, end: 21 });
    expect(visibleWindow(26 * 500, 260, 26, 1000, 10)).toEqual({ start: 490, end: 521 });
    expect(visibleWindow(26 * 995, 260, 26, 1000, 10)).toEqual({ start: 985, end: 1000 });
    expect(visibleWindow(0, 260, 26, 0)).toEqual({ start: 0, end: 0 });
  });

  it('loads each page once, as the window needs it', async () => {
    const k = fakeKernel(1000);
    await createRoot(async (dispose) => {
      const p = createResultPager(k.fetch, 100);
      p.ensure(0, 30);
      p.ensure(0, 30);
      await settle();
      expect(k.calls).toEqual([[0, 100]]);
      expect(p.rowCount()).toBe(1000);
      expect(p.columns().map((c) => c.type)).toEqual(['BIGINT', 'VARCHAR']);
      expect(p.row(99)).toEqual([99, 'row 99']);
      expect(p.row(100)).toBeUndefined();
      p.ensure(480, 520);
      await settle();
      expect(k.calls).toEqual([
        [0, 100],
        [400, 100],
        [500, 100],
      ]);
      expect(p.row(510)).toEqual([510, 'row 510']);
      dispose();
    });
  });

  it('drops pages of an older run when a newer one answers', async () => {
    let run = 'r1';
    const k = fakeKernel(300, () => run);
    await createRoot(async (dispose) => {
      const p = createResultPager(k.fetch, 100);
      p.ensure(0, 10);
      await settle();
      run = 'r2';
      p.ensure(150, 160);
      await settle();
      expect(p.row(0)).toBeUndefined();
      expect(p.row(150)).toEqual([150, 'row 150']);
      dispose();
    });
  });

  it('reports a failed page as an error', async () => {
    await createRoot(async (dispose) => {
      const p = createResultPager(async () => {
        throw new Error('No result for this cell yet: run it first.');
      });
      p.ensure(0, 10);
      await settle();
      expect(p.error()).toMatch(/run it first/);
      dispose();
    });
  });
});
