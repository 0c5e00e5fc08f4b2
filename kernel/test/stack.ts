// Test factories for the kernel's end-to-end tests: a real collaboration server process, a kernel started in this
// process against it, notebooks created through the collab API, and run events read from the kernel's SSE stream.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PipebookFile } from '@pipebook/shared';
import { signUserToken } from '@pipebook/shared/auth/tokens';
import type { RunCreated, RunEvent, RunRequest } from '@pipebook/shared/protocol/kernel';
import { afterAll, beforeAll } from 'vitest';
import {
  api,
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from '../../collab-server/test/helpers.ts';
import { loadConfig } from '../src/config.ts';
import { type KernelHandle, type KernelOverrides, startKernel } from '../src/server.ts';
import { lateHandle } from './suite-fixture.ts';

export type { TestClient };
export { api, newClient, waitFor };

export const JWT_SECRET = 'test-user-secret-0123456789abcdef';
export const SERVICE_SECRET = 'test-service-secret-0123456789abcdef';

export interface Stack {
  collab: CollabProcess;
  kernel: KernelHandle;
  home: string;
  dataDir: string;
  tokenMode: boolean;
  /** A user token (token mode) or undefined (local mode). */
  token(userId: string, name?: string): Promise<string | undefined>;
  /** Stops the kernel and starts a new one on the same home (a new port). */
  restartKernel(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface StackOptions {
  tokenMode?: boolean;
  demoOrders?: number;
  env?: Record<string, string>;
  overrides?: KernelOverrides;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-kernel-'));
  const tokenEnv: Record<string, string> = opts.tokenMode ? { PIPEBOOK_JWT_SECRET: JWT_SECRET } : {};
  const collab = await startCollabProcess({
    PIPEBOOK_HOME: home,
    PIPEBOOK_SERVICE_SECRET: SERVICE_SECRET,
    PIPEBOOK_SEED_DEMO: '0',
    ...tokenEnv,
  });
  let kernel: KernelHandle;
  try {
    const config = loadConfig({
      PIPEBOOK_HOME: home,
      PIPEBOOK_KERNEL_PORT: '0',
      PIPEBOOK_COLLAB_URL: collab.url,
      PIPEBOOK_SERVICE_SECRET: SERVICE_SECRET,
      PIPEBOOK_DEMO_ORDERS: String(opts.demoOrders ?? 20_000),
      PIPEBOOK_DOC_IDLE_MS: '500',
      PIPEBOOK_SPARK_IDLE_MS: '500',
      ...tokenEnv,
      ...opts.env,
    });
    kernel = await startKernel(config, { log: () => {}, ...opts.overrides });
  } catch (e) {
    await collab.cleanup();
    fs.rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const stack: Stack = {
    collab,
    kernel,
    home,
    dataDir: kernel.config.dataDir,
    tokenMode: !!opts.tokenMode,
    token: async (userId, name) => (opts.tokenMode ? signUserToken(JWT_SECRET, { id: userId, name }) : undefined),
    async restartKernel() {
      await stack.kernel.close();
      stack.kernel = await startKernel(stack.kernel.config, { log: () => {}, ...opts.overrides });
    },
    async cleanup() {
      await stack.kernel.close();
      await collab.cleanup();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return stack;
}

export interface KernelFixtureOptions extends StackOptions {
  /** Runs before the stack starts: a test server to start, an engine factory to register, env the kernel reads. */
  before?: () => Promise<void> | void;
  /** Runs after the stack is cleaned up, also when it never started: stops what `before` started. */
  after?: () => Promise<void> | void;
}

/**
 * The kernel stack every test in the file shares: `before`, then the stack, in beforeAll; the stack's cleanup, then
 * `after`, in afterAll. Call it at the top level of a test file; the handle it returns works inside tests and hooks.
 */
export function withKernel(opts: KernelFixtureOptions = {}): Stack {
  const { before, after, ...stackOpts } = opts;
  let stack: Stack | undefined;
  beforeAll(async () => {
    await before?.();
    stack = await startStack(stackOpts);
  });
  afterAll(async () => {
    await stack?.cleanup();
    await after?.();
  });
  return lateHandle('the kernel stack', () => stack);
}

/** A notebook file from a compact cell list (ids default to `c_<name>`). */
export function notebookFile(
  cells: Array<{
    name: string;
    kind?: PipebookFile['cells'][number]['kind'];
    source?: string;
    config?: Record<string, unknown>;
    id?: string;
  }>,
  title = 'Test notebook',
): PipebookFile {
  return {
    format: 'pipebook',
    version: 1,
    title,
    defaultEngine: 'duckdb',
    cells: cells.map((c) => ({
      id: c.id ?? `c_${c.name}`,
      name: c.name,
      kind: c.kind ?? 'sql',
      source: c.source ?? '',
      config: c.config ?? {},
    })),
  };
}

export async function createNotebookFrom(stack: Stack, file: PipebookFile, token?: string): Promise<string> {
  return createNotebook(stack.collab.url, { file }, token);
}

/** Calls the kernel: JSON in, status and JSON out. */
export async function kernelApi<T = unknown>(
  stack: Stack,
  route: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: T }> {
  return api<T>(stack.kernel.url, route, init);
}

/** Every event of a run from the kernel's SSE stream, until run_finished (or the deadline). */
export async function collectEvents(
  stack: Stack,
  runId: string,
  token?: string,
  timeoutMs = 30_000,
): Promise<RunEvent[]> {
  const res = await fetch(`${stack.kernel.url}/api/runs/${runId}/events`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok || !res.body) throw new Error(`events: ${res.status} ${await res.text()}`);
  const events: RunEvent[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    let i = buf.indexOf('\n\n');
    while (i >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data) events.push(JSON.parse(data) as RunEvent);
      i = buf.indexOf('\n\n');
    }
  }
  return events;
}

export async function startRun(stack: Stack, req: RunRequest, token?: string): Promise<RunCreated> {
  const r = await kernelApi<RunCreated>(stack, '/api/runs', { method: 'POST', body: req, token });
  if (r.status !== 201) throw new Error(`run refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Starts a run and waits for it to finish; returns the plan and every event. */
export async function runToEnd(
  stack: Stack,
  req: RunRequest,
  token?: string,
): Promise<{ created: RunCreated; events: RunEvent[] }> {
  const created = await startRun(stack, req, token);
  const events = await collectEvents(stack, created.runId, token);
  return { created, events };
}

export function finished(events: RunEvent[]): Map<string, Extract<RunEvent, { type: 'cell_finished' }>> {
  const out = new Map<string, Extract<RunEvent, { type: 'cell_finished' }>>();
  for (const e of events) if (e.type === 'cell_finished') out.set(e.cellId, e);
  return out;
}

export async function page(
  stack: Stack,
  notebookId: string,
  cellId: string,
  q = '',
  token?: string,
): Promise<{
  status: number;
  body: { rows: unknown[][]; rowCount: number; columns: { name: string; type: string }[] };
}> {
  return kernelApi(stack, `/api/results/${notebookId}/${cellId}${q ? `?${q}` : ''}`, { token });
}
