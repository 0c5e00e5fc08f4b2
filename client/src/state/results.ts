// Paging a cell's result from the kernel for the virtualised grid: rows are fetched a page at a time as the visible
// window needs them, each page once, and a newer run of the cell throws the cache away.
import type { ColumnInfo } from '@pipebook/shared';
import type { ResultPage } from '@pipebook/shared/protocol/kernel';
import { type Accessor, createSignal } from 'solid-js';

export type FetchPage = (offset: number, limit: number, signal: AbortSignal) => Promise<ResultPage>;

export interface ResultPager {
  columns: Accessor<ColumnInfo[]>;
  rowCount: Accessor<number | undefined>;
  error: Accessor<string | undefined>;
  /** Bumps whenever a page arrives, so readers of `row()` re-render. */
  version: Accessor<number>;
  row(index: number): unknown[] | undefined;
  /** Makes sure rows [from, to) are loaded or loading. */
  ensure(from: number, to: number): void;
  dispose(): void;
}

export function pagesFor(from: number, to: number, pageSize: number): number[] {
  const out: number[] = [];
  if (to <= from) return out;
  for (let p = Math.floor(from / pageSize); p * pageSize < to; p++) out.push(p);
  return out;
}

export function createResultPager(fetchPage: FetchPage, pageSize = 200): ResultPager {
  const [columns, setColumns] = createSignal<ColumnInfo[]>([]);
  const [rowCount, setRowCount] = createSignal<number | undefined>(undefined);
  const [error, setError] = createSignal<string | undefined>(undefined);
  const [version, setVersion] = createSignal(0);
  const pages = new Map<number, unknown[][]>();
  const loading = new Set<number>();
  const ctl = new AbortController();
  let runId: string | undefined;

  const load = (p: number) => {
    if (pages.has(p) || loading.has(p)) return;
    loading.add(p);
    fetchPage(p * pageSize, pageSize, ctl.signal)
      .then((page) => {
        loading.delete(p);
        if (runId !== undefined && page.runId !== runId) {
          // The cell was re-run between pages: start over so rows of two runs never mix.
          pages.clear();
        }
        runId = page.runId;
        pages.set(p, page.rows);
        setColumns(page.columns);
        setRowCount(page.rowCount);
        setError(undefined);
        setVersion((v) => v + 1);
      })
      .catch((e: Error) => {
        loading.delete(p);
        if (e.name !== 'AbortError') setError(e.message);
      });
  };

  return {
    columns,
    rowCount,
    error,
    version,
    row(i) {
      return pages.get(Math.floor(i / pageSize))?.[i % pageSize];
    },
    ensure(from, to) {
      const count = rowCount();
      const end = count === undefined ? Math.max(to, from + 1) : Math.min(to, count);
      for (const p of pagesFor(Math.max(0, from), end, pageSize)) load(p);
      if (count === undefined && end <= from) load(0);
    },
    dispose() {
      ctl.abort();
    },
  };
}

/** The rows [start, end) a scroll position shows, with `overscan` extra rows either side. */
export function visibleWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan = 10,
): { start: number; end: number } {
  const first = Math.floor(scrollTop / rowHeight);
  const visible = Math.ceil(viewportHeight / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(rowCount, first + visible + overscan);
  return { start, end: Math.max(start, end) };
}
