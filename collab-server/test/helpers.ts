// Factories for cross-process tests: a real collab server as a child process, and stock y-websocket clients.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'collab-server/src/main.ts');

export interface CollabProcess {
  url: string;
  wsUrl: string;
  port: number;
  home: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (commit and close), resolved with the exit code. */
  stop(): Promise<number | string>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Stops the process (if running) and removes the home directory when this helper created it. */
  cleanup(): Promise<void>;
}

/**
 * Spawns `collab-server/src/main.ts` as a real child process on a random port (or PIPEBOOK_PORT when given), waits
 * for /healthz and returns its URL. Runs `node --import tsx` rather than `npx tsx`: the tsx CLI keeps the server in a
 * grandchild process, and a SIGKILL must reach the server itself.
 */
export async function startCollabProcess(env: Record<string, string> = {}): Promise<CollabProcess> {
  const ownHome = env.PIPEBOOK_HOME === undefined;
  const home = env.PIPEBOOK_HOME ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-collab-'));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      PIPEBOOK_PORT: '0',
      PIPEBOOK_KERNEL_URL: 'http://127.0.0.1:9',
      ...env,
      PIPEBOOK_HOME: home,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collab server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`collab server exited (${code}) before listening:\n${output}`));
    });
  });
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  await waitFor(async () => (await fetch(`${url}/healthz`)).ok, 10_000, 'healthz');
  const port = Number(new URL(url).port);
  const proc: CollabProcess = {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    port,
    home,
    child,
    exited,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async cleanup() {
      await proc.kill();
      if (ownHome) fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return proc;
}

export interface TestClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Resolves on the next `sync` event with synced = true (at once when already synced). */
  synced(): Promise<void>;
  destroy(): void;
}

/** A stock y-websocket client of notebook `notebookId`, with BroadcastChannel off so only the server connects it. */
export function newClient(
  url: string,
  notebookId: string,
  options: { token?: string; doc?: Y.Doc; connect?: boolean } = {},
): TestClient {
  const doc = options.doc ?? new Y.Doc();
  const wsBase = `${url.replace(/^http/, 'ws')}/collab`;
  const provider = new WebsocketProvider(wsBase, notebookId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: options.token ? { token: options.token } : {},
    disableBc: true,
    connect: options.connect ?? true,
    maxBackoffTime: 300,
  });
  return {
    doc,
    provider,
    synced: () =>
      provider.synced
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const on = (s: boolean) => {
              if (!s) return;
              provider.off('sync', on);
              resolve();
            };
            provider.on('sync', on);
          }),
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Polls `cond` until it holds, failing with `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** JSON request against the server's API; returns status and parsed body. */
export async function api<T = unknown>(
  url: string,
  route: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${route}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Creates a notebook through the API and returns its id. */
export async function createNotebook(url: string, body: Record<string, unknown> = {}, token?: string): Promise<string> {
  const r = await api<{ id: string }>(url, '/api/notebooks', { method: 'POST', body, token });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}
