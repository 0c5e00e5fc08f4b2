#!/usr/bin/env node
// `npm start`: builds the app when needed, then runs the collaboration server (the one origin the browser uses) and
// the kernel side by side on embedded defaults, and prints the URL to open.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Pipebook needs Node.js 20.19 or newer (this is ${process.versions.node}).`);
  process.exit(1);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const builtIndex = path.join(root, 'dist', 'index.html');
const clientSources = [path.join(root, 'client', 'src'), path.join(root, 'shared', 'src')];
const stale =
  !existsSync(builtIndex) || clientSources.some((d) => existsSync(d) && newestMtime(d) > statSync(builtIndex).mtimeMs);
if (stale && process.env.PIPEBOOK_SKIP_BUILD !== '1') {
  console.log('Building the app (first start or changed sources)...');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) {
    console.error('The app build failed; see the messages above.');
    process.exit(1);
  }
}

const port = Number(process.env.PIPEBOOK_PORT ?? 5170);
const kernelPort = Number(process.env.PIPEBOOK_KERNEL_PORT ?? 5171);
const env = {
  ...process.env,
  PIPEBOOK_PORT: String(port),
  PIPEBOOK_KERNEL_PORT: String(kernelPort),
  PIPEBOOK_HOME: path.resolve(root, process.env.PIPEBOOK_HOME ?? '.pipebook'),
  PIPEBOOK_KERNEL_URL: process.env.PIPEBOOK_KERNEL_URL ?? `http://127.0.0.1:${kernelPort}`,
  PIPEBOOK_COLLAB_URL: process.env.PIPEBOOK_COLLAB_URL ?? `http://127.0.0.1:${port}`,
  // The kernel proves who it is to the collaboration server with this; a fresh one per start unless configured.
  PIPEBOOK_SERVICE_SECRET: process.env.PIPEBOOK_SERVICE_SECRET ?? randomBytes(32).toString('hex'),
};

const children = [];
let stopping = false;

function run(name, entry) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Each service prefixes its own log lines with its name.
  child.stdout.pipe(process.stdout);
  child.stderr.pipe(process.stderr);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[${name}] stopped (${signal ?? `exit code ${code}`}); shutting down.`);
    stop(1);
  });
  children.push(child);
  return child;
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(code);
  }, 5000);
  deadline.unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on('exit', r))))).then(() =>
    process.exit(code),
  );
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function waitHealthy(url, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !stopping) {
    try {
      const r = await fetch(url);
      if (r.ok) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 150));
  }
  return false;
}

run('kernel', 'kernel/src/main.ts');
run('collab', 'collab-server/src/main.ts');
const ok =
  (await waitHealthy(`http://127.0.0.1:${kernelPort}/healthz`, 120_000)) &&
  (await waitHealthy(`http://127.0.0.1:${port}/healthz`, 60_000));
if (ok) {
  console.log(
    `\nPipebook is running. Open http://127.0.0.1:${port}\n(Ctrl+C stops it; data lives in ${env.PIPEBOOK_HOME})\n`,
  );
} else if (!stopping) {
  console.error('Pipebook did not become healthy in time; see the messages above.');
  stop(1);
}
