// The result store: one materialised result (a Parquet file) per notebook cell under PIPEBOOK_HOME/kernel/results,
// with a small JSON sidecar so the index survives a restart. Total size is bounded: least recently used results
// are evicted first, except results pinned by a running run.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ColumnInfo } from '@pipebook/shared';

export interface ResultEntry {
  notebookId: string;
  cellId: string;
  runId: string;
  inputHash: string;
  /** Sizes and times of the data files the result was computed from (empty when it read none). */
  filesStamp?: string;
  engine: string;
  columns: ColumnInfo[];
  rowCount: number;
  /** Absolute path of the Parquet file. */
  path: string;
  bytes: number;
  createdAt: number;
  lastUsed: number;
}

function safePart(s: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(s) ? s : createHash('sha256').update(s).digest('hex').slice(0, 32);
}

export class ResultStore {
  private readonly entries = new Map<string, ResultEntry>();
  private readonly pins = new Map<string, number>();
  /** Files replaced or evicted while pinned: deleted when the last pin goes. */
  private readonly doomed = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.load();
  }

  private static key(notebookId: string, cellId: string): string {
    return `${notebookId}\u0000${cellId}`;
  }

  private sidecar(notebookId: string, cellId: string): string {
    return path.join(this.dir, safePart(notebookId), `${safePart(cellId)}.json`);
  }

  /** Rebuilds the index from the sidecars; drops sidecars whose Parquet file is gone and stray temp files. */
  private load(): void {
    for (const nb of readdirSync(this.dir, { withFileTypes: true })) {
      if (!nb.isDirectory()) continue;
      const nbDir = path.join(this.dir, nb.name);
      const referenced = new Set<string>();
      for (const f of readdirSync(nbDir)) {
        if (!f.endsWith('.json')) continue;
        try {
          const e = JSON.parse(readFileSync(path.join(nbDir, f), 'utf8')) as ResultEntry;
          if (!existsSync(e.path)) continue;
          e.bytes = statSync(e.path).size;
          this.entries.set(ResultStore.key(e.notebookId, e.cellId), e);
          referenced.add(path.basename(e.path));
        } catch {
          // A torn sidecar: the result is simply recomputed on the next run.
        }
      }
      for (const f of readdirSync(nbDir)) {
        if (f.endsWith('.parquet') && !referenced.has(f)) rm(path.join(nbDir, f), { force: true }).catch(() => {});
        if (f.endsWith('.tmp')) rm(path.join(nbDir, f), { force: true }).catch(() => {});
      }
    }
  }

  /** A fresh path for a new result of this cell (the previous one stays readable until the new one is committed). */
  allocate(notebookId: string, cellId: string, runId: string): string {
    const dir = path.join(this.dir, safePart(notebookId));
    mkdirSync(dir, { recursive: true });
    return path.join(dir, `${safePart(cellId)}.${safePart(runId)}.parquet`);
  }

  get(notebookId: string, cellId: string): ResultEntry | undefined {
    const e = this.entries.get(ResultStore.key(notebookId, cellId));
    if (!e) return undefined;
    if (!existsSync(e.path)) {
      this.entries.delete(ResultStore.key(notebookId, cellId));
      return undefined;
    }
    return e;
  }

  touch(e: ResultEntry): void {
    e.lastUsed = Date.now();
  }

  /**
   * Makes `entry` the cell's current result, retiring the previous file, then evicts down to the size bound. The
   * index changes at once; the sidecar and deletions follow in the background (a crash in between only means the
   * result is recomputed or an orphan file is swept at the next start).
   */
  commit(entry: Omit<ResultEntry, 'bytes' | 'createdAt' | 'lastUsed'>): ResultEntry {
    const now = Date.now();
    const full: ResultEntry = { ...entry, bytes: statSync(entry.path).size, createdAt: now, lastUsed: now };
    const key = ResultStore.key(entry.notebookId, entry.cellId);
    const prev = this.entries.get(key);
    this.entries.set(key, full);
    const side = this.sidecar(entry.notebookId, entry.cellId);
    this.background(async () => {
      await writeFile(`${side}.tmp`, JSON.stringify(full));
      await rename(`${side}.tmp`, side);
    });
    if (prev && prev.path !== full.path) this.background(() => this.retire(prev.path));
    if (this.totalBytes() > this.maxBytes) this.background(() => this.evict());
    return full;
  }

  /** File work that need not delay a run, done in order so a later sidecar always wins. */
  private tail: Promise<void> = Promise.resolve();
  private background(work: () => Promise<void>): void {
    this.tail = this.tail.then(work).catch((e) => console.error('[kernel] result store:', e));
  }

  /** Resolves when background file work queued so far is done (tests, shutdown). */
  flush(): Promise<void> {
    return this.tail;
  }

  /** Removes a cell's result (cell deleted, or result known to be bad). */
  async drop(notebookId: string, cellId: string): Promise<void> {
    const key = ResultStore.key(notebookId, cellId);
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    await rm(this.sidecar(notebookId, cellId), { force: true });
    await this.retire(e.path);
  }

  /** Keeps a file from deletion while a query reads it; returns the unpin function. */
  pin(filePath: string): () => void {
    this.pins.set(filePath, (this.pins.get(filePath) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.pins.get(filePath) ?? 1) - 1;
      if (n > 0) {
        this.pins.set(filePath, n);
        return;
      }
      this.pins.delete(filePath);
      if (this.doomed.delete(filePath)) rm(filePath, { force: true }).catch(() => {});
    };
  }

  private async retire(filePath: string): Promise<void> {
    if (this.pins.has(filePath)) this.doomed.add(filePath);
    else await rm(filePath, { force: true });
  }

  totalBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  private async evict(): Promise<void> {
    let total = this.totalBytes();
    if (total <= this.maxBytes) return;
    const byAge = [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of byAge) {
      if (total <= this.maxBytes) break;
      if (this.pins.has(e.path)) continue;
      total -= e.bytes;
      await this.drop(e.notebookId, e.cellId);
    }
  }
}
