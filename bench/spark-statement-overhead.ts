// What the Livy client adds to a statement, measured against the Livy test server in the same run:
//   floor     one bare HTTP round trip (GET /sessions/{id}/state)
//   protocol  a bare statement: POST /statements, then GET it back-to-back until `available` (no client logic)
//   client    LivyEngine.execute of the same SQL (session lookup, polling with growing intervals, schema parsing),
//             with the default first poll interval (2 ms) and with a 10 ms one.
// `npx tsx bench/spark-statement-overhead.ts` prints a table and writes bench/results/spark-statement-overhead.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { LivyEngine } from '../kernel/src/engines/livy/livy-engine.ts';
import { startLivyServer } from '../kernel/test/servers/livy/server.ts';

const N = Number(process.env.BENCH_N ?? 200);
const SQL = 'SELECT 1 AS one';
const headers = { 'x-requested-by': 'bench', 'content-type': 'application/json' };

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const server = await startLivyServer({ bootDelaysMs: { notStarted: 0, starting: 0 } });
const engines = [undefined, 10].map(
  (pollMinMs: number | undefined) =>
    new LivyEngine({ type: 'livy', name: 'bench', url: server.url, pollMinMs, healthCheckMs: 0 }),
);
try {
  const never = new AbortController().signal;
  // Each engine boots its own ad-hoc session; the bare loops use the first one.
  for (const e of engines) await e.execute({ sql: SQL, signal: never, resultPath: '' });
  const sid = 0;

  const floor = await time(N, async () => (await fetch(`${server.url}/sessions/${sid}/state`, { headers })).json());
  const protocol = await time(N, async () => {
    const st = await (
      await fetch(`${server.url}/sessions/${sid}/statements`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ code: SQL, kind: 'sql' }),
      })
    ).json();
    for (;;) {
      const s = await (await fetch(`${server.url}/sessions/${sid}/statements/${st.id}`, { headers })).json();
      if (s.state === 'available') return s;
    }
  });
  const client = [];
  for (const e of engines) {
    client.push(
      await time(N, async () => {
        const out = await e.execute({ sql: SQL, signal: never, resultPath: '' });
        if (out.type === 'stream') for await (const _ of out.batches);
      }),
    );
  }

  const rows = [
    { case: 'floor: one bare HTTP round trip', ...stats(floor) },
    { case: 'protocol: bare POST + tight GET loop', ...stats(protocol) },
    { case: 'client: LivyEngine.execute (first poll 2 ms)', ...stats(client[0]) },
    { case: 'client: LivyEngine.execute (first poll 10 ms)', ...stats(client[1]) },
  ];
  const base = stats(protocol).median;
  const floorMedian = stats(floor).median;
  console.log(`Livy statement overhead, ${N} statements each (${os.cpus().length} cores)`);
  console.log('case'.padEnd(48), 'median ms', '  p90 ms', ' x protocol', ' x floor');
  for (const r of rows) {
    console.log(
      r.case.padEnd(48),
      r.median.toFixed(2).padStart(9),
      r.p90.toFixed(2).padStart(8),
      (r.median / base).toFixed(2).padStart(11),
      (r.median / floorMedian).toFixed(2).padStart(8),
    );
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/spark-statement-overhead.json',
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: os.cpus().length,
        n: N,
        rows: rows.map((r) => ({ ...r, ratioToProtocol: r.median / base, ratioToFloor: r.median / floorMedian })),
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  for (const e of engines) await e.close();
  await server.close();
}
