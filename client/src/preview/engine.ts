// The preview engine: DuckDB-WASM in its own Web Worker, one per page, started on the first preview. Its bundles
// come from our own build (Vite `?url` assets, never a CDN) and are kept in Cache Storage, so the preview also starts
// offline. Extension autoloading is off: a query that needs an extension fails at once instead of hanging on a
// download (docs/preview.md).
import * as duckdb from '@duckdb/duckdb-wasm';
import ehWorker from '@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js?url';
import mvpWorker from '@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js?url';
import ehWasm from '@duckdb/duckdb-wasm/dist/duckdb-eh.wasm?url';
import mvpWasm from '@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm?url';
import type { ColumnInfo } from '@pipebook/shared';
import { quoteIdent } from '@pipebook/shared';

const BUNDLE_CACHE = 'pipebook-preview-bundles-v1';
const START_TIMEOUT_MS = 30_000;

export interface PreviewResult {
  columns: ColumnInfo[];
  /** The first rows, as display values. */
  rows: unknown[][];
  rowCount: number;
  /** Milliseconds the query took in the worker (compile excluded). */
  ms: number;
}

export interface PreviewEngine {
  /** Loads (or replaces) a table from an Arrow IPC stream, casting columns back to the source's own types. */
  loadTable(name: string, arrow: Uint8Array, columns: ColumnInfo[]): Promise<void>;
  hasTable(name: string, key: string): boolean;
  markTable(name: string, key: string): void;
  query(sql: string, limit: number): Promise<PreviewResult>;
  /** Time the engine took to start (bundle fetch, worker, instantiate, first connection), in ms. */
  startMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * A blob URL for one of our own assets: from Cache Storage when held (asset names carry a content hash, so a cached
 * copy is always the right one), else from the network, then kept for the next (possibly offline) start.
 */
async function localAsset(url: string, type: string): Promise<string> {
  const abs = new URL(url, window.location.href).href;
  let res: Response | undefined;
  let cache: Cache | undefined;
  try {
    cache = await caches.open(BUNDLE_CACHE);
    res = await cache.match(abs);
  } catch {
    cache = undefined; // Cache Storage unavailable (e.g. an insecure origin): the network alone then.
  }
  if (!res) {
    const net = await fetch(abs);
    if (!net.ok) throw new Error(`Cannot load ${url}: ${net.status}`);
    if (cache) await cache.put(abs, net.clone()).catch(() => undefined);
    res = net;
  }
  return URL.createObjectURL(new Blob([await res.arrayBuffer()], { type }));
}

/** Puts our bundles into Cache Storage if they are not there yet (in the background, after the engine started). */
async function keepForOffline(urls: string[]): Promise<void> {
  try {
    const cache = await caches.open(BUNDLE_CACHE);
    for (const u of urls) {
      const abs = new URL(u, window.location.href).href;
      if (!(await cache.match(abs))) await cache.add(abs);
    }
  } catch {
    // Offline starts then need the network; online ones are unaffected.
  }
}

/** Drops bundles of older builds from the cache (their names differ by content hash). */
async function pruneBundles(keep: string[]): Promise<void> {
  try {
    const cache = await caches.open(BUNDLE_CACHE);
    const wanted = new Set(keep.map((u) => new URL(u, window.location.href).href));
    for (const req of await cache.keys()) if (!wanted.has(req.url)) await cache.delete(req);
  } catch {
    // Nothing to prune without Cache Storage.
  }
}

/** How a column is read for display: exact JS values for plain types, text for everything else. */
function displayColumn(c: ColumnInfo): string {
  const q = quoteIdent('duckdb', c.name);
  const t = c.type.toUpperCase();
  if (/^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|FLOAT|DOUBLE|VARCHAR)$/.test(t)) return q;
  if (t.startsWith('DECIMAL')) return `CAST(${q} AS DOUBLE) AS ${q}`;
  return `CAST(${q} AS VARCHAR) AS ${q}`;
}

function display(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

async function start(): Promise<PreviewEngine> {
  const t0 = performance.now();
  const eh = await WebAssembly.validate(
    // The exception-handling probe DuckDB's selectBundle uses: a module with a try/catch.
    new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 8, 1, 6, 0, 6, 64, 25, 11, 11]),
  );
  const wasmUrl = eh ? ehWasm : mvpWasm;
  const workerUrl = eh ? ehWorker : mvpWorker;
  // Online, the worker loads the bundle from our server: the browser's HTTP cache and its cache of compiled
  // WebAssembly make later starts faster. A copy goes into Cache Storage for offline starts, which use blob URLs
  // (also the fallback when the server cannot be reached although the browser believes it is online).
  const instantiate = async (wasm: string, worker: string) => {
    const w = new Worker(worker);
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), w);
    try {
      await withTimeout(db.instantiate(wasm), START_TIMEOUT_MS, 'Starting the preview engine');
      return db;
    } catch (e) {
      w.terminate();
      throw e;
    }
  };
  const fromCache = async () =>
    instantiate(
      ...(await Promise.all([localAsset(wasmUrl, 'application/wasm'), localAsset(workerUrl, 'text/javascript')])),
    );
  let db: duckdb.AsyncDuckDB;
  if (navigator.onLine !== false) {
    try {
      db = await instantiate(
        new URL(wasmUrl, window.location.href).href,
        new URL(workerUrl, window.location.href).href,
      );
      void keepForOffline([wasmUrl, workerUrl]);
    } catch {
      db = await fromCache();
    }
  } else {
    db = await fromCache();
  }
  void pruneBundles([wasmUrl, workerUrl]);
  await db.open({ query: { castBigIntToDouble: false } });
  const conn = await db.connect();
  // A query needing an extension must fail at once, not wait for a download that cannot happen offline.
  await conn.query('SET autoinstall_known_extensions = false');
  await conn.query('SET autoload_known_extensions = false');
  await conn.query('SELECT 1');
  const startMs = performance.now() - t0;
  // For the benchmark and the browser's performance panel.
  performance.measure('pipebook-preview-engine-start', { start: t0, duration: startMs });
  const loaded = new Map<string, string>();
  // One connection, one statement at a time: previews of several cells queue behind each other.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
  return {
    startMs,
    hasTable: (name, key) => loaded.get(name) === key,
    markTable: (name, key) => loaded.set(name, key),
    loadTable: (name, arrow, columns) =>
      serial(async () => {
        const raw = `${name}__arrow`;
        await conn.query(`DROP TABLE IF EXISTS ${quoteIdent('duckdb', raw)}`);
        await conn.insertArrowFromIPCStream(arrow, { name: raw, create: true });
        // Arrow carries decimals as doubles and some types as text; cast back so the preview types match the
        // engine's. A type the browser does not know keeps its Arrow form.
        const casts = columns.map(
          (c) => `CAST(${quoteIdent('duckdb', c.name)} AS ${c.type}) AS ${quoteIdent('duckdb', c.name)}`,
        );
        const target = quoteIdent('duckdb', name);
        try {
          await conn.query(
            `CREATE OR REPLACE TABLE ${target} AS SELECT ${casts.join(', ') || '*'} FROM ${quoteIdent('duckdb', raw)}`,
          );
        } catch {
          await conn.query(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${quoteIdent('duckdb', raw)}`);
        }
        await conn.query(`DROP TABLE ${quoteIdent('duckdb', raw)}`);
      }),
    query: (sql, limit) =>
      serial(async () => {
        const q0 = performance.now();
        await conn.query(`CREATE OR REPLACE TEMP TABLE __pipebook_preview AS ${sql}`);
        const desc = await conn.query('DESCRIBE __pipebook_preview');
        const count = await conn.query('SELECT count(*)::DOUBLE AS n FROM __pipebook_preview');
        const columns = desc.toArray().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
        const head = await conn.query(
          `SELECT ${columns.map(displayColumn).join(', ') || '*'} FROM __pipebook_preview LIMIT ${Math.floor(limit)}`,
        );
        const rows: unknown[][] = [];
        const children = columns.map((_, i) => head.getChildAt(i));
        for (let r = 0; r < head.numRows; r++) rows.push(children.map((c) => display(c?.get(r))));
        const rowCount = Number(count.getChildAt(0)?.get(0) ?? 0);
        return { columns, rows, rowCount, ms: performance.now() - q0 };
      }),
  };
}

let engine: Promise<PreviewEngine> | undefined;

/** The page's preview engine, started once; a failed start is retried on the next call. */
export function previewEngine(): Promise<PreviewEngine> {
  engine ??= start().catch((e) => {
    engine = undefined;
    throw e;
  });
  return engine;
}
