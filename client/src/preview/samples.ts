// Samples of source cells: fetched once from the kernel (`GET /api/samples/...`, Arrow IPC) and kept in IndexedDB,
// so previews survive a reload, offline included. A sample is keyed by what the source reads (its config and engine)
// and how it was sampled; when either changes, a new one is fetched.
import type { CellSnapshot, ColumnInfo } from '@pipebook/shared';
import { authHeaders } from '../net/auth.ts';
import { errorFromBody } from '../net/http.ts';

/** Response headers of a sample (named as the kernel sends them, kernel/src/samples/routes.ts). */
const HEADERS = {
  rowCount: 'x-pipebook-sample-rows',
  columns: 'x-pipebook-sample-columns',
  truncated: 'x-pipebook-sample-truncated',
  mode: 'x-pipebook-sample-mode',
} as const;

export interface SampleSettings {
  rows?: number;
  maxBytes?: number;
  mode?: 'first' | 'random';
  seed?: number;
}

export interface StoredSample {
  /** `${notebookId}/${cellId}` */
  id: string;
  key: string;
  columns: ColumnInfo[];
  rowCount: number;
  truncated: boolean;
  mode: string;
  fetchedAt: number;
  arrow: Uint8Array;
}

/** Settings from localStorage (`pipebook.preview.rows`, `.maxBytes`, `.mode`, `.seed`); the kernel's defaults else. */
export function sampleSettings(storage: Storage = window.localStorage): SampleSettings {
  const n = (k: string) => {
    const v = Number(storage.getItem(`pipebook.preview.${k}`) ?? '');
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  const mode = storage.getItem('pipebook.preview.mode');
  return {
    rows: n('rows'),
    maxBytes: n('maxBytes'),
    mode: mode === 'random' || mode === 'first' ? mode : undefined,
    seed: n('seed'),
  };
}

/** What identifies a sample: the source's config and engine, and the sampling settings. */
export function sampleKey(cell: CellSnapshot, engine: string, settings: SampleSettings): string {
  const config = Object.keys(cell.config)
    .sort()
    .map((k) => [k, cell.config[k]]);
  return JSON.stringify({ config, engine, settings });
}

const DB = 'pipebook-preview';
const STORE = 'samples';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let db: Promise<IDBDatabase> | undefined;
function database(): Promise<IDBDatabase> {
  db ??= openDb().catch((e) => {
    db = undefined;
    throw e;
  });
  return db;
}

async function readStored(id: string): Promise<StoredSample | undefined> {
  const d = await database();
  return new Promise((resolve, reject) => {
    const req = d.transaction(STORE, 'readonly').objectStore(STORE).get(id);
    req.onsuccess = () => resolve(req.result as StoredSample | undefined);
    req.onerror = () => reject(req.error);
  });
}

async function writeStored(s: StoredSample): Promise<void> {
  const d = await database();
  await new Promise<void>((resolve, reject) => {
    const tx = d.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(s);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

async function fetchSample(
  notebookId: string,
  cellId: string,
  key: string,
  settings: SampleSettings,
): Promise<StoredSample> {
  const url = new URL(
    `/api/samples/${encodeURIComponent(notebookId)}/${encodeURIComponent(cellId)}`,
    window.location.origin,
  );
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) url.searchParams.set(k, String(v));
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: 'application/vnd.apache.arrow.stream', ...authHeaders() } });
  } catch {
    throw new Error(
      'Cannot fetch a sample: the server cannot be reached. Once fetched, samples are kept in this browser for offline previews.',
    );
  }
  if (!res.ok) {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    throw errorFromBody(res.status, body);
  }
  const arrow = new Uint8Array(await res.arrayBuffer());
  return {
    id: `${notebookId}/${cellId}`,
    key,
    columns: JSON.parse(decodeURIComponent(res.headers.get(HEADERS.columns) ?? '%5B%5D')) as ColumnInfo[],
    rowCount: Number(res.headers.get(HEADERS.rowCount) ?? 0),
    truncated: res.headers.get(HEADERS.truncated) === '1',
    mode: res.headers.get(HEADERS.mode) ?? 'first',
    fetchedAt: Date.now(),
    arrow,
  };
}

/**
 * The sample of a source cell: the stored one when its key matches (no request at all), else a fresh one from the
 * kernel, stored for next time. `refresh` fetches anew even when one is stored.
 */
export async function loadSample(
  notebookId: string,
  cellId: string,
  key: string,
  settings: SampleSettings,
  opts: { refresh?: boolean } = {},
): Promise<StoredSample & { from: 'cache' | 'network' }> {
  const id = `${notebookId}/${cellId}`;
  if (!opts.refresh) {
    const stored = await readStored(id).catch(() => undefined);
    if (stored && stored.key === key) return { ...stored, from: 'cache' };
  }
  const fresh = await fetchSample(notebookId, cellId, key, settings);
  await writeStored(fresh).catch(() => undefined);
  return { ...fresh, from: 'network' };
}
