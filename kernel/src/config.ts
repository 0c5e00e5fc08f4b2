// The kernel's configuration, read once from the environment with defaults that work on a fresh machine.
import path from 'node:path';

export type AuthMode = { type: 'local' } | { type: 'token'; jwtSecret?: string; jwksUrl?: string };

export interface KernelConfig {
  /** PIPEBOOK_HOME, absolute. */
  home: string;
  /** Where file sources and file targets live (PIPEBOOK_DATA_DIR, default PIPEBOOK_HOME/data), absolute. */
  dataDir: string;
  /** PIPEBOOK_HOME/kernel: the embedded warehouse and the result store. */
  kernelDir: string;
  /** The embedded DuckDB database file. */
  warehousePath: string;
  /** Materialised results (Parquet). */
  resultsDir: string;
  host: string;
  /** 0 = any free port (tests). */
  port: number;
  /** Base URL of the collaboration server (HTTP); its socket is the same origin under /collab. */
  collabUrl: string;
  /** Signs the kernel's service token; without it the kernel connects without one (local mode). */
  serviceSecret?: string;
  auth: AuthMode;
  /** Upper bound on the result store; least recently used results are evicted past it. */
  resultsMaxBytes: number;
  /** Cells executing at once across all notebooks. */
  maxConcurrentCells: number;
  /** How long an access answer from the collaboration server is reused. */
  accessCacheMs: number;
  /** How long an unused notebook replica stays connected before it is closed. */
  docIdleMs: number;
  /** How long a notebook's Spark sessions outlive its closed replica (engines/session-grace.ts). */
  sparkIdleMs: number;
  /** Generate the demo tables and files on first start. */
  demoData: boolean;
  /** Rows in the demo orders table (customers and products scale with it). */
  demoOrders: number;
  /** PIPEBOOK_REDIS_URL: kernels share the run queue and run events through Redis (docs/deployment.md). */
  redisUrl?: string;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return Math.floor(n);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): KernelConfig {
  const home = path.resolve(cwd, env.PIPEBOOK_HOME || '.pipebook');
  // PIPEBOOK_KERNEL_DIR: each of several kernels needs its own (an embedded DuckDB file has one writer process).
  const kernelDir = path.resolve(cwd, env.PIPEBOOK_KERNEL_DIR || path.join(home, 'kernel'));
  const jwtSecret = env.PIPEBOOK_JWT_SECRET || undefined;
  const jwksUrl = env.PIPEBOOK_JWKS_URL || undefined;
  return {
    home,
    dataDir: path.resolve(cwd, env.PIPEBOOK_DATA_DIR || path.join(home, 'data')),
    kernelDir,
    warehousePath: path.join(kernelDir, 'warehouse.duckdb'),
    resultsDir: path.join(kernelDir, 'results'),
    // The kernel is only reached through the collaboration server's proxy: never bind beyond loopback.
    host: '127.0.0.1',
    port: int(env, 'PIPEBOOK_KERNEL_PORT', 5171),
    collabUrl: (env.PIPEBOOK_COLLAB_URL || 'http://127.0.0.1:5170').replace(/\/+$/, ''),
    serviceSecret: env.PIPEBOOK_SERVICE_SECRET || undefined,
    auth: jwtSecret || jwksUrl ? { type: 'token', jwtSecret, jwksUrl } : { type: 'local' },
    resultsMaxBytes: int(env, 'PIPEBOOK_RESULTS_MAX_BYTES', 2 * 1024 ** 3),
    maxConcurrentCells: Math.max(1, int(env, 'PIPEBOOK_KERNEL_CONCURRENCY', 4)),
    accessCacheMs: int(env, 'PIPEBOOK_ACCESS_CACHE_MS', 3000),
    docIdleMs: int(env, 'PIPEBOOK_DOC_IDLE_MS', 30_000),
    sparkIdleMs: int(env, 'PIPEBOOK_SPARK_IDLE_MS', 10 * 60_000),
    demoData: env.PIPEBOOK_DEMO_DATA !== '0',
    demoOrders: int(env, 'PIPEBOOK_DEMO_ORDERS', 800_000),
    redisUrl: env.PIPEBOOK_REDIS_URL || undefined,
  };
}
