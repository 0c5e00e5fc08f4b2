// Scale-out over Redis: two collab-server processes on one shared PIPEBOOK_HOME and one redis-server (AOF on,
// appendfsync everysec). Measured in the same run:
//   1. propagation latency writer -> observer on the same instance (baseline) and on the other instance (via Redis);
//   2. Redis commands per update (INFO commandstats deltas over the latency phase);
//   3. throughput: updates/s until every replica on both instances has them, two instances versus one.
// Run: npx tsx bench/cluster-sync.ts   (about 30 s on 2 cores)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addCell, type CellId, cellSourceText, getCellMap } from '@pipebook/shared';
import { Redis } from 'ioredis';
import type * as Y from 'yjs';
import { startRedis } from '../collab-server/test/cluster/redis-process.ts';
import {
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from '../collab-server/test/helpers.ts';

const LATENCY_UPDATES = 1000;
const LATENCY_INTERVAL_MS = 5;
const THROUGHPUT_WRITERS = 4;
const THROUGHPUT_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r2 = (x: number) => Math.round(x * 100) / 100;

function sourceOf(doc: Y.Doc, cellId: CellId): Y.Text {
  const cell = getCellMap(doc, cellId);
  if (!cell) throw new Error('cell missing');
  return cellSourceText(cell);
}

async function joined(url: string, id: string): Promise<TestClient> {
  const c = newClient(url, id);
  await c.synced();
  return c;
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const text = (await redis.info('commandstats')) as string;
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

async function main() {
  const redis = await startRedis();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-bench-cluster-'));
  const env = {
    PIPEBOOK_HOME: home,
    PIPEBOOK_REDIS_URL: redis.url,
    PIPEBOOK_SEED_DEMO: '0',
    // The throughput phase writes faster than one person types; lift the per-connection flood limit (H3).
    PIPEBOOK_COLLAB_MESSAGES_PER_SECOND: '100000',
  };
  const instances: CollabProcess[] = [];
  const clients: TestClient[] = [];
  const admin = new Redis(redis.url);
  try {
    instances.push(await startCollabProcess(env));
    instances.push(await startCollabProcess(env));
    const [a, b] = instances;
    for (const p of instances) {
      await waitFor(
        async () =>
          ((await (await fetch(`${p.url}/healthz`)).json()) as { cluster?: { redis: string } }).cluster?.redis === 'up',
        10_000,
        'redis up',
      );
    }

    // --- 1 + 2: latency within one instance and across instances, and Redis commands per update ----------------
    const id = await createNotebook(a.url, {});
    const writer = await joined(a.url, id);
    clients.push(writer);
    const cellId = addCell(writer.doc, { kind: 'sql', source: '' });
    const sameObs = await joined(a.url, id);
    const crossObs = await joined(b.url, id);
    clients.push(sameObs, crossObs);
    await waitFor(() => !!getCellMap(crossObs.doc, cellId) && !!getCellMap(sameObs.doc, cellId), 5000, 'cell');
    const sentAt: number[] = [];
    const lat = { same: [] as number[], cross: [] as number[] };
    const observe = (c: TestClient, into: number[]) => {
      c.doc.on('update', () => {
        const n = sourceOf(c.doc, cellId).length;
        // The text length says which write arrived (writes are single characters, one per message).
        if (n > into.length && sentAt[n - 1] !== undefined) into.push(performance.now() - sentAt[n - 1]);
      });
    };
    observe(sameObs, lat.same);
    observe(crossObs, lat.cross);
    // Warm-up, not measured.
    for (let i = 0; i < 50; i++) {
      sourceOf(writer.doc, cellId).insert(0, 'w');
      await sleep(2);
    }
    await waitFor(() => sourceOf(crossObs.doc, cellId).length === 50, 5000, 'warm-up');
    lat.same.length = 0;
    lat.cross.length = 0;
    sentAt.length = 0;
    for (let i = 0; i < 50; i++) sentAt.push(0);
    lat.same.push(...new Array(50).fill(-1));
    lat.cross.push(...new Array(50).fill(-1));
    const statsBefore = await commandStats(admin);
    for (let i = 0; i < LATENCY_UPDATES; i++) {
      sentAt.push(performance.now());
      sourceOf(writer.doc, cellId).insert(sourceOf(writer.doc, cellId).length, 'x');
      await sleep(LATENCY_INTERVAL_MS);
    }
    const total = 50 + LATENCY_UPDATES;
    await waitFor(() => lat.cross.length === total && lat.same.length === total, 10_000, 'all received');
    const statsAfter = await commandStats(admin);
    const same = lat.same.slice(50);
    const cross = lat.cross.slice(50);
    const perCommand: Record<string, number> = {};
    let commands = 0;
    for (const [cmd, calls] of statsAfter) {
      const d = calls - (statsBefore.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0);
      if (d <= 0) continue;
      commands += d;
      // Lease and bookkeeping commands (a handful per run) would only print as 0.
      if (d / LATENCY_UPDATES >= 0.01) perCommand[cmd] = r2(d / LATENCY_UPDATES);
    }
    // Round trips on the writing instance: its XADDs (one pipeline per group commit, here one per update).
    const latency = {
      updates: LATENCY_UPDATES,
      intervalMs: LATENCY_INTERVAL_MS,
      sameInstance: { p50: r2(pct(same, 50)), p99: r2(pct(same, 99)), max: r2(Math.max(...same)) },
      crossInstance: { p50: r2(pct(cross, 50)), p99: r2(pct(cross, 99)), max: r2(Math.max(...cross)) },
    };
    const redisCommands = { perUpdate: r2(commands / LATENCY_UPDATES), byCommand: perCommand };
    for (const c of clients.splice(0)) c.destroy();

    // --- 3: throughput, two instances versus one ------------------------------------------------------------
    const throughput = async (writersOn: CollabProcess[], observersOn: CollabProcess[]) => {
      const nb = await createNotebook(a.url, {});
      const ws: TestClient[] = [];
      for (let i = 0; i < THROUGHPUT_WRITERS; i++) ws.push(await joined(writersOn[i % writersOn.length].url, nb));
      const obs = await Promise.all(observersOn.map((p) => joined(p.url, nb)));
      clients.push(...ws, ...obs);
      // Each writer types at the end of its own cell, as people mostly do; all of them into one notebook.
      const cells = ws.map((w) => addCell(w.doc, { kind: 'sql', source: '' }));
      const everywhere = () => [...ws, ...obs].every((c) => cells.every((cell) => !!getCellMap(c.doc, cell)));
      await waitFor(everywhere, 5000, 'cells everywhere');
      const typed = (c: TestClient) => cells.reduce((n, cell) => n + sourceOf(c.doc, cell).length, 0);
      let written = 0;
      const t0 = performance.now();
      const until = t0 + THROUGHPUT_MS;
      await Promise.all(
        ws.map(async (w, i) => {
          while (performance.now() < until) {
            const text = sourceOf(w.doc, cells[i]);
            text.insert(text.length, 'y');
            written++;
            // Yield to the socket every write (one message per update), as typing clients do.
            await new Promise((r) => setImmediate(r));
          }
        }),
      );
      await waitFor(() => obs.every((o) => typed(o) === written), 60_000, 'observers caught up').catch((e) => {
        throw new Error(`${e.message}: written ${written}, observers ${obs.map(typed)}`);
      });
      const seconds = (performance.now() - t0) / 1000;
      for (const c of clients.splice(0)) c.destroy();
      return { updates: written, seconds: r2(seconds), updatesPerSecond: Math.round(written / seconds) };
    };
    const one = await throughput([a], [a, a]);
    const two = await throughput([a, b], [a, b]);

    const result = {
      machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}`,
      date: new Date().toISOString(),
      redis: 'redis-server 7, AOF on, appendfsync everysec, loopback',
      latency,
      redisCommands,
      throughput: { oneInstance: one, twoInstances: two, ratio: r2(two.updatesPerSecond / one.updatesPerSecond) },
    };
    console.log('\nPropagation (ms), writer on instance A, 1,000 updates every 5 ms');
    console.table({
      'same instance (baseline)': latency.sameInstance,
      'other instance (via Redis)': latency.crossInstance,
    });
    console.log(
      `cross/same p50 ratio ${r2(latency.crossInstance.p50 / latency.sameInstance.p50)}, p99 ratio ${r2(latency.crossInstance.p99 / latency.sameInstance.p99)}; target cross p99 <= 10 ms: ${latency.crossInstance.p99 <= 10 ? 'met' : 'NOT met'}`,
    );
    console.log(`\nRedis commands per update (all instances): ${redisCommands.perUpdate}`);
    console.table(redisCommands.byCommand);
    console.log(`\nThroughput (${THROUGHPUT_WRITERS} writers, until every observer has every update)`);
    console.table({ 'one instance (baseline)': one, 'two instances': two });
    console.log(`two/one ratio ${result.throughput.ratio}`);
    const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'cluster-sync.json');
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
  } finally {
    for (const c of clients) c.destroy();
    admin.disconnect();
    for (const p of instances) await p.kill();
    await redis.cleanup();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
