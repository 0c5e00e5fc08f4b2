// End-to-end harness: the real collaboration server and kernel, started the way `npm start` starts them (tsx entry
// points, one origin), on random ports with a temp PIPEBOOK_HOME, plus real Chromium through playwright-core.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Pipebook {
  url: string;
  home: string;
  /** Signs a user token (token mode only). */
  token(sub: string, name: string): Promise<string>;
  /** Calls the HTTP API as `token`'s user. */
  api<T = unknown>(method: string, p: string, token?: string, body?: unknown): Promise<T>;
  hasKernel: boolean;
  logs(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function spawnService(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  log: string[],
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 30 s:\n${out}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      const s = chunk.toString();
      out += s;
      log.push(`[${name}] ${s}`);
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => log.push(`[${name}!] ${c.toString()}`));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out}\n${log.join('')}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startPipebook(
  opts: {
    tokenMode?: boolean;
    kernel?: boolean;
    /** Files to put in PIPEBOOK_HOME before either server starts (`pipebook.config.yaml`, say), by relative path. */
    files?: Record<string, string>;
  } = {},
): Promise<Pipebook> {
  if (!existsSync(path.join(ROOT, 'dist', 'index.html'))) throw new Error('Build the app first: npx vite build');
  const home = mkdtempSync(path.join(tmpdir(), 'pipebook-e2e-'));
  for (const [name, content] of Object.entries(opts.files ?? {})) {
    const file = path.resolve(home, name);
    if (!file.startsWith(home + path.sep)) throw new Error(`${name} is not inside PIPEBOOK_HOME`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const secret = opts.tokenMode ? randomBytes(32).toString('hex') : undefined;
  const kernelPort = await freePort();
  const log: string[] = [];
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PIPEBOOK_HOME: home,
    PIPEBOOK_SERVICE_SECRET: randomBytes(32).toString('hex'),
    PIPEBOOK_KERNEL_URL: `http://127.0.0.1:${kernelPort}`,
    PIPEBOOK_KERNEL_PORT: String(kernelPort),
    PIPEBOOK_SEED_DEMO: '0',
    ...(secret ? { PIPEBOOK_JWT_SECRET: secret, PIPEBOOK_HOST: '127.0.0.1' } : {}),
  };
  delete baseEnv.PIPEBOOK_JWKS_URL;
  if (!secret) delete baseEnv.PIPEBOOK_JWT_SECRET;
  const collab = await spawnService(
    'collab',
    'collab-server/src/main.ts',
    { ...baseEnv, PIPEBOOK_PORT: '0' },
    /listening on (http:\/\/[\d.:]+)/,
    log,
  );
  const url = collab.match[1];
  const children = [collab.child];
  const kernelEntry = path.join(ROOT, 'kernel/src/main.ts');
  let hasKernel = false;
  if (opts.kernel !== false && existsSync(kernelEntry)) {
    const kernel = await spawnService(
      'kernel',
      'kernel/src/main.ts',
      { ...baseEnv, PIPEBOOK_COLLAB_URL: url },
      /listening on (http:\/\/[\d.:]+)/i,
      log,
    );
    children.push(kernel.child);
    hasKernel = true;
  }
  const key = secret ? new TextEncoder().encode(secret) : undefined;
  const pb: Pipebook = {
    url,
    home,
    hasKernel,
    logs: () => log.join(''),
    async token(sub, name) {
      if (!key) throw new Error('Not in token mode');
      return new SignJWT({ name })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key);
    },
    async api(method, p, token, body) {
      const res = await fetch(`${url}${p}`, {
        method,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as never;
    },
    async stop() {
      for (const c of children.reverse()) await stopChild(c);
      rmSync(home, { recursive: true, force: true });
    },
  };
  return pb;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

/** One person: their own browser context (own storage, own IndexedDB, no BroadcastChannel shared with others). */
export async function openAs(
  browser: Browser,
  pb: Pipebook,
  pathname: string,
  token?: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  const sep = pathname.includes('?') ? '&' : '?';
  await page.goto(`${pb.url}${pathname}${token ? `${sep}token=${encodeURIComponent(token)}` : ''}`);
  return { context, page };
}

/** The editor of a cell, by the cell's name. */
export function editorOf(page: Page, cellName: string) {
  return page.locator(`section[data-cell-name="${cellName}"] .cm-content`);
}

/**
 * Scrolls the cell into view, as a person would, and waits for its live editor: cells far from the viewport keep
 * their editors parked as plain text (client/src/state/near-viewport.ts).
 */
export async function waitForEditor(page: Page, cellName: string): Promise<void> {
  await page.locator(`section[data-cell-name="${cellName}"]`).scrollIntoViewIfNeeded({ timeout: 15_000 });
  await page
    .locator(`section[data-cell-name="${cellName}"] .cell-editor[data-editor="ready"]`)
    .waitFor({ timeout: 15_000 });
}

export async function editorText(page: Page, cellName: string): Promise<string> {
  return page.evaluate((name) => {
    const el = document.querySelector(`section[data-cell-name="${name}"] .cm-content`);
    // Remote carets are widgets inside the line that carry the person's name: leave them out of the text.
    const lines = el
      ? [...el.querySelectorAll('.cm-line')].map((l) => {
          const copy = l.cloneNode(true) as HTMLElement;
          for (const w of copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer')) w.remove();
          return copy.textContent ?? '';
        })
      : [];
    return lines.join('\n');
  }, cellName);
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
