// Collab server against a plain @y/websocket-server 0.1.1 in the same run, clients spread over several processes:
// propagation latency (one writer, N = 10 / 100 observers; first second after all joined, and steady state), server
// CPU per update, 1,000 idle connections over 100 notebooks (memory per connection and per loaded doc), and 100
// clients joining a 5 MB notebook (time to synced).
// Run: npx tsx bench/collab-sync.ts   (about 6 minutes on 2 cores; PIPEBOOK_BENCH_REPEATS=1 for a quick look)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BenchServer,
  cpuSeconds,
  perfStat,
  type ServerKind,
  startServer,
  threadCpuSeconds,
} from './collab/servers.ts';
import { percentile, split, type Worker, workers } from './collab/workers.ts';

const CLIENT_PROCESSES = 4;
const WRITE_INTERVAL_MS = 10;
const FIRST_SECOND_UPDATES = 100;
const STEADY_UPDATES = 600;
const KINDS: ServerKind[] = ['plain', 'pipebook'];
// While tuning, PIPEBOOK_BENCH_KINDS=pipebook runs one server only (ratios then read n/a); PIPEBOOK_BENCH_DEBUG=1 prints
// latencies per 100 ms and the servers' CPU by thread; PIPEBOOK_BENCH_PERF_EVENTS=<perf events> counts them (perf stat)
// in each server over the steady phase, e.g. syscalls:sys_enter_writev,syscalls:sys_enter_pwrite64,context-switches,
// or records a profile with `record:/tmp/perf-{kind}.data` (then `perf report -i …`); PIPEBOOK_BENCH_SERVER_LOG=<prefix>
// keeps the servers' output (with PIPEBOOK_BENCH_NODE_ARGS=--trace-deopt, say); PIPEBOOK_BENCH_WARM_EDITS sets the
// servers' warm-up (default 1,000 edits; see warmUpServer).
const REPEATS = Number(process.env.PIPEBOOK_BENCH_REPEATS ?? 5);
const WARM_UP_EDITS = Number(process.env.PIPEBOOK_BENCH_WARM_EDITS ?? 1000);
const RUN_KINDS = (process.env.PIPEBOOK_BENCH_KINDS?.split(',') as ServerKind[] | undefined) ?? KINDS;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withServer<T>(kind: ServerKind, fn: (s: BenchServer) => Promise<T>): Promise<T> {
  const server = await startServer(kind);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

async function closeAll(ws: Worker[]) {
  await Promise.all(ws.map((w) => w.close()));
}

interface Propagation {
  firstSecond: { p50: number; p99: number; samples: number };
  steady: { p50: number; p99: number; samples: number };
  cpuMsPerUpdate: number;
  /** The same over the first second: what the join burst still costs the server while the writer starts. */
  firstSecondCpuMsPerUpdate: number;
}

/**
 * Runs the server's update path (receive, store, broadcast to 10 peers) for 1,000 edits in another room, the same for
 * both servers, before anything is measured. Without it the first second after the joins also measures a fresh
 * process running that path for the first time (interpreted, then compiled), which a server that has been up for a
 * minute no longer pays. PIPEBOOK_BENCH_COLD_SERVER=1 skips it.
 */
async function warmUpServer(server: BenchServer): Promise<void> {
  if (process.env.PIPEBOOK_BENCH_COLD_SERVER === '1') return;
  const room = await server.createRoom();
  const [writer, peers] = workers(2);
  try {
    await writer.request({ type: 'writer', base: server.wsBase, room }, 'writer-ready');
    const rooms = Array.from({ length: 10 }, () => room);
    await peers.request({ type: 'join', base: server.wsBase, rooms, observe: false }, 'joined');
    await writer.request({ type: 'write', from: 0, count: WARM_UP_EDITS, intervalMs: 2 }, 'written');
  } finally {
    await closeAll([writer, peers]);
  }
  // The server notices the closed sockets (and Pipebook unloads the room) before the measured room opens.
  await sleep(500);
}

async function propagation(kind: ServerKind, observers: number): Promise<Propagation> {
  return withServer(kind, async (server) => {
    await warmUpServer(server);
    const room = await server.createRoom();
    const observerProcs = workers(CLIENT_PROCESSES);
    const [writer] = workers(1);
    try {
      await writer.request({ type: 'writer', base: server.wsBase, room }, 'writer-ready');
      const rooms = Array.from({ length: observers }, () => room);
      await Promise.all(
        split(rooms, CLIENT_PROCESSES).map((part, i) =>
          observerProcs[i].request({ type: 'join', base: server.wsBase, rooms: part, observe: true }, 'joined'),
        ),
      );
      // All N have joined: the first second starts now.
      if (process.env.PIPEBOOK_BENCH_DEBUG)
        console.log(`${kind} first second starts at ${Math.round(performance.timeOrigin + performance.now())}`);
      const cpuFirst0 = cpuSeconds(server.pid);
      await writer.request(
        { type: 'write', from: 0, count: FIRST_SECOND_UPDATES, intervalMs: WRITE_INTERVAL_MS },
        'written',
      );
      const cpuFirst1 = cpuSeconds(server.pid);
      await sleep(1000);
      const cpu0 = cpuSeconds(server.pid);
      const threads0 = threadCpuSeconds(server.pid);
      const perfEvents = process.env.PIPEBOOK_BENCH_PERF_EVENTS?.replace('{kind}', kind);
      const perf = perfEvents ? perfStat(server.pid, perfEvents) : null;
      await writer.request(
        { type: 'write', from: 100_000, count: STEADY_UPDATES, intervalMs: WRITE_INTERVAL_MS },
        'written',
      );
      await sleep(300);
      const cpu1 = cpuSeconds(server.pid);
      if (perf) console.log(`${kind} steady phase, perf stat:\n${await perf.stop()}`);
      if (process.env.PIPEBOOK_BENCH_DEBUG) {
        const perThread = [...threadCpuSeconds(server.pid)]
          .map(([name, s]) => `${name} ${(((s - (threads0.get(name) ?? 0)) * 1000) / STEADY_UPDATES).toFixed(2)}`)
          .join(', ');
        console.log(`${kind} steady server CPU per update by thread (ms): ${perThread}`);
      }
      const reports = await Promise.all(observerProcs.map((w) => w.request({ type: 'report' }, 'latencies')));
      const samples = reports.flatMap((r) => r.samples);
      const first = samples.filter(([seq]) => seq < 100_000).map(([, ms]) => ms);
      const steady = samples.filter(([seq]) => seq >= 100_000).map(([, ms]) => ms);
      if (process.env.PIPEBOOK_BENCH_DEBUG) {
        for (const [w, r] of reports.entries()) {
          const row = Array.from({ length: 10 }, (_, b) =>
            percentile(
              r.samples.filter(([seq]) => seq >= b * 10 && seq < b * 10 + 10).map(([, ms]) => ms),
              50,
            ).toFixed(1),
          );
          console.log(`${kind} observer process ${w} p50 per 100 ms: ${row.join(' ')}`);
        }
        const mins = Array.from({ length: 100 }, (_, seq) =>
          Math.min(...samples.filter(([s]) => s === seq).map(([, ms]) => ms)).toFixed(0),
        );
        console.log(`${kind} min latency per update: ${mins.join(' ')}`);
        for (const q of [50, 99]) {
          const buckets = Array.from({ length: 10 }, (_, b) =>
            percentile(
              samples.filter(([seq]) => seq >= b * 10 && seq < b * 10 + 10).map(([, ms]) => ms),
              q,
            ).toFixed(1),
          );
          console.log(`${kind} N=${observers} first-second p${q} per 100 ms: ${buckets.join(' ')}`);
        }
      }
      const expected = observers * (FIRST_SECOND_UPDATES + STEADY_UPDATES);
      if (samples.length < expected) console.warn(`${kind}: ${samples.length} of ${expected} arrivals seen`);
      return {
        firstSecond: { p50: percentile(first, 50), p99: percentile(first, 99), samples: first.length },
        steady: { p50: percentile(steady, 50), p99: percentile(steady, 99), samples: steady.length },
        cpuMsPerUpdate: ((cpu1 - cpu0) * 1000) / STEADY_UPDATES,
        firstSecondCpuMsPerUpdate: ((cpuFirst1 - cpuFirst0) * 1000) / FIRST_SECOND_UPDATES,
      };
    } finally {
      await closeAll([...observerProcs, writer]);
    }
  });
}

/** Memory after the server settles: heap (+ external) after a full GC, and RSS. */
async function settled(server: BenchServer): Promise<{ heapUsed: number; rss: number }> {
  await sleep(1500);
  return server.memory();
}

interface IdleMemory {
  heapPerConnectionKB: number;
  heapPerDocKB: number;
  rssPerConnectionKB: number;
  rssPerDocKB: number;
  rssMB: number;
}

async function idleMemory(kind: ServerKind): Promise<IdleMemory> {
  return withServer(kind, async (server) => {
    const procs = workers(CLIENT_PROCESSES);
    try {
      const rooms: string[] = [];
      for (let i = 0; i < 100; i++) rooms.push(await server.createRoom());
      // Measured after the notebooks exist, so the HTTP calls that create them are not counted as document memory.
      const base = await settled(server);
      // 100 notebooks with the demo content, one client each...
      await Promise.all(
        split(rooms, CLIENT_PROCESSES).map((part, i) =>
          procs[i].request({ type: 'seed', base: server.wsBase, rooms: part, content: 'demo' }, 'seeded'),
        ),
      );
      const withDocs = await settled(server);
      // ...then 900 more idle clients: 1,000 connections over 100 notebooks.
      const more = rooms.flatMap((r) => Array.from({ length: 9 }, () => r));
      await Promise.all(
        split(more, CLIENT_PROCESSES).map((part, i) =>
          procs[i].request({ type: 'join', base: server.wsBase, rooms: part, observe: false }, 'joined'),
        ),
      );
      const withConns = await settled(server);
      const per = (key: 'heapUsed' | 'rss') => {
        const conn = (withConns[key] - withDocs[key]) / 900;
        const doc = (withDocs[key] - base[key] - 100 * conn) / 100;
        return { conn: conn / 1024, doc: doc / 1024 };
      };
      return {
        heapPerConnectionKB: per('heapUsed').conn,
        heapPerDocKB: per('heapUsed').doc,
        rssPerConnectionKB: per('rss').conn,
        rssPerDocKB: per('rss').doc,
        rssMB: withConns.rss / 1024 / 1024,
      };
    } finally {
      await closeAll(procs);
    }
  });
}

interface BigJoin {
  p50: number;
  p99: number;
  max: number;
}

async function bigJoin(kind: ServerKind): Promise<BigJoin> {
  return withServer(kind, async (server) => {
    const room = await server.createRoom();
    const [seeder] = workers(1);
    const procs = workers(CLIENT_PROCESSES);
    try {
      await seeder.request({ type: 'seed', base: server.wsBase, rooms: [room], content: 'big' }, 'seeded');
      const rooms = Array.from({ length: 100 }, () => room);
      const results = await Promise.all(
        split(rooms, CLIENT_PROCESSES).map((part, i) =>
          procs[i].request({ type: 'join', base: server.wsBase, rooms: part, observe: false }, 'joined'),
        ),
      );
      const times = results.flatMap((r) => r.times);
      return { p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times) };
    } finally {
      await closeAll([seeder, ...procs]);
    }
  });
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

async function main() {
  const results: Record<string, Record<ServerKind, unknown>> = {};
  const table: Array<[string, number, number]> = [];
  const runLines: string[] = [];
  const record = (name: string, plain?: number, pipebook?: number) =>
    table.push([name, plain ?? Number.NaN, pipebook ?? Number.NaN]);

  // An optional argument runs one part only while tuning: propagation | memory | join.
  const only = process.argv[2];
  const runs = (part: string) => !only || only === part;
  const sizes = process.env.PIPEBOOK_BENCH_N ? [Number(process.env.PIPEBOOK_BENCH_N)] : [10, 100];
  for (const n of runs('propagation') ? sizes : []) {
    // Latency tails on 2 shared cores move by +-30% from one run to the next, for both servers alike: each server is
    // measured REPEATS times, alternating, and the table shows the median of each figure (every run is in the JSON
    // and printed below the table).
    const all = { plain: [], pipebook: [] } as Record<ServerKind, Propagation[]>;
    for (let i = 0; i < REPEATS; i++) for (const kind of RUN_KINDS) all[kind].push(await propagation(kind, n));
    results[`propagation_n${n}`] = all;
    const med = (kind: ServerKind, f: (p: Propagation) => number) =>
      all[kind].length ? median(all[kind].map(f)) : undefined;
    const row = (name: string, f: (p: Propagation) => number) => {
      record(name, med('plain', f), med('pipebook', f));
      runLines.push(
        `${name}: plain ${all.plain.map((p) => fmt(f(p))).join(' / ')}; Pipebook ${all.pipebook.map((p) => fmt(f(p))).join(' / ')}`,
      );
    };
    row(`N=${n} first-second p50 (ms)`, (p) => p.firstSecond.p50);
    row(`N=${n} first-second p99 (ms)`, (p) => p.firstSecond.p99);
    row(`N=${n} steady p50 (ms)`, (p) => p.steady.p50);
    row(`N=${n} steady p99 (ms)`, (p) => p.steady.p99);
    row(`N=${n} server CPU per update (ms)`, (p) => p.cpuMsPerUpdate);
    row(`N=${n} server CPU per update, first second (ms)`, (p) => p.firstSecondCpuMsPerUpdate);
  }
  const mem = {} as Record<ServerKind, IdleMemory>;
  if (runs('memory')) {
    for (const kind of RUN_KINDS) mem[kind] = await idleMemory(kind);
    results.idle_1000_connections = mem;
    record(
      'heap per idle connection (KB, after GC)',
      mem.plain?.heapPerConnectionKB,
      mem.pipebook?.heapPerConnectionKB,
    );
    record('RSS per idle connection (KB)', mem.plain?.rssPerConnectionKB, mem.pipebook?.rssPerConnectionKB);
    record('heap per loaded demo doc (KB, after GC)', mem.plain?.heapPerDocKB, mem.pipebook?.heapPerDocKB);
    record('RSS per loaded demo doc (KB)', mem.plain?.rssPerDocKB, mem.pipebook?.rssPerDocKB);
    record('server RSS, 1,000 connections (MB)', mem.plain?.rssMB, mem.pipebook?.rssMB);
  }
  const join = {} as Record<ServerKind, BigJoin>;
  if (runs('join')) {
    for (const kind of RUN_KINDS) join[kind] = await bigJoin(kind);
    results.join_100_to_5mb = join;
    record('100 joins to 5 MB: p50 to synced (ms)', join.plain?.p50, join.pipebook?.p50);
    record('100 joins to 5 MB: p99 to synced (ms)', join.plain?.p99, join.pipebook?.p99);
  }

  const load = os.loadavg().map((l) => l.toFixed(1));
  console.log(
    `\ncollab-sync (${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}, load average ${load.join(' ')}, durability ${process.env.PIPEBOOK_COLLAB_DURABILITY ?? 'normal'})`,
  );
  console.log('| figure | plain @y/websocket-server 0.1.1 | Pipebook | ratio (Pipebook / plain) |');
  console.log('|---|---:|---:|---:|');
  for (const [name, plain, pipebook] of table) {
    console.log(`| ${name} | ${fmt(plain)} | ${fmt(pipebook)} | ${fmt(ratio(pipebook, plain))} |`);
  }
  if (runLines.length)
    console.log(`\nEach propagation run (${REPEATS} per server, alternating):\n${runLines.join('\n')}`);
  const out = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    'results',
    only ? `collab-sync-${only}.json` : 'collab-sync.json',
  );
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: os.cpus().length,
        loadAverage: os.loadavg(),
        durability: process.env.PIPEBOOK_COLLAB_DURABILITY ?? 'normal',
        clientProcesses: CLIENT_PROCESSES,
        repeats: REPEATS,
        writeIntervalMs: WRITE_INTERVAL_MS,
        table: table.map(([figure, plain, pipebook]) => ({ figure, plain, pipebook, ratio: ratio(pipebook, plain) })),
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

await main();
