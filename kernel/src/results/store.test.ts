import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ResultStore } from './store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function fresh(maxBytes: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-results-'));
  dirs.push(dir);
  return { dir, store: new ResultStore(dir, maxBytes) };
}

async function put(store: ResultStore, nb: string, cell: string, run: string, bytes: number) {
  const p = store.allocate(nb, cell, run);
  fs.writeFileSync(p, Buffer.alloc(bytes));
  const e = store.commit({
    notebookId: nb,
    cellId: cell,
    runId: run,
    inputHash: `h-${run}`,
    engine: 'duckdb',
    columns: [],
    rowCount: 0,
    path: p,
  });
  await store.flush();
  return e;
}

describe('ResultStore', () => {
  it('[R12] keeps one current result per cell and removes the replaced file', async () => {
    const { store } = fresh(1e9);
    const first = await put(store, 'nb1', 'c1', 'r1', 10);
    const second = await put(store, 'nb1', 'c1', 'r2', 20);
    expect(store.get('nb1', 'c1')?.runId).toBe('r2');
    expect(fs.existsSync(first.path)).toBe(false);
    expect(fs.existsSync(second.path)).toBe(true);
  });

  it('[R12] evicts the least recently used results past the size bound, never pinned ones', async () => {
    const { store } = fresh(250);
    const a = await put(store, 'nb', 'a', 'r1', 100);
    await put(store, 'nb', 'b', 'r1', 100);
    const unpinB = store.pin(store.get('nb', 'b')!.path);
    a.lastUsed = 0;
    await put(store, 'nb', 'c', 'r1', 100);
    // a is least recently used and unpinned: evicted; b is pinned: kept although older than c.
    expect(store.get('nb', 'a')).toBeUndefined();
    expect(store.get('nb', 'b')).toBeDefined();
    expect(store.get('nb', 'c')).toBeDefined();
    expect(store.totalBytes()).toBe(200);
    unpinB();
  });

  it('[R12] a file replaced while pinned is deleted when the last reader lets go', async () => {
    const { store } = fresh(1e9);
    const old = await put(store, 'nb', 'a', 'r1', 10);
    const unpin = store.pin(old.path);
    await put(store, 'nb', 'a', 'r2', 10);
    expect(fs.existsSync(old.path)).toBe(true);
    unpin();
    for (let i = 0; i < 200 && fs.existsSync(old.path); i++) await new Promise((r) => setTimeout(r, 5));
    expect(fs.existsSync(old.path)).toBe(false);
  });

  it('rebuilds its index after a restart', async () => {
    const { dir, store } = fresh(1e9);
    const e = await put(store, 'nb', 'c_x', 'r1', 10);
    const again = new ResultStore(dir, 1e9);
    expect(again.get('nb', 'c_x')).toMatchObject({ runId: 'r1', inputHash: 'h-r1', path: e.path, bytes: 10 });
  });
});
