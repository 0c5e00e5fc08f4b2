// Time to recover after a Livy session dies, against a cold start measured in the same run. A three-cell chain
// (SQL -> PySpark -> SQL) runs on the Livy test server with a scripted boot (not_started 50 ms, starting 150 ms):
//   cold       first run of the chain: session boot, three steps, fetch
//   warm       the same run again: upstream views reused, only the target recomputed
//   recovery   the session is killed, then the chain runs: death noticed on submit, staleness reported, a new
//              session booted, every step recomputed
// `npx tsx bench/spark-session-recovery.ts` prints a table and writes bench/results/spark-session-recovery.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { CellId } from '@pipebook/shared';
import { LivyEngine } from '../kernel/src/engines/livy/livy-engine.ts';
import type { SparkStep } from '../kernel/src/engines/livy/spark-types.ts';
import { startLivyServer } from '../kernel/test/servers/livy/server.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const BOOT_MS = 200;

const steps: SparkStep[] = [
  {
    cellId: CellId.of('a'),
    name: 'a',
    kind: 'sql',
    code: 'SELECT range AS id, range % 7 AS k FROM range(1000)',
    inputHash: 'a',
  },
  { cellId: CellId.of('p'), name: 'p', kind: 'pyspark', code: 'a.groupBy("k").count()', inputHash: 'p' },
  { cellId: CellId.of('s'), name: 's', kind: 'sql', code: 'SELECT * FROM p ORDER BY k', inputHash: 's' },
];

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const server = await startLivyServer({ bootDelaysMs: { notStarted: 50, starting: 150 } });
const engine = new LivyEngine({ type: 'livy', name: 'bench', url: server.url, healthCheckMs: 0 });
const lost: number[] = [];
engine.onSessionLost((e) => lost.push(e.cellIds.length));
const run = async (notebookId: string) => {
  const t = performance.now();
  const out = await engine.runCells({ notebookId, steps, signal: new AbortController().signal });
  if (out.type === 'stream') for await (const _ of out.batches);
  return performance.now() - t;
};

try {
  const cold: number[] = [];
  const warm: number[] = [];
  const recovery: number[] = [];
  const detect: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const nb = `nb${r}`;
    cold.push(await run(nb));
    warm.push(await run(nb));
    const sid = Math.max(...server.sessions.keys());
    server.kill(sid);
    recovery.push(await run(nb));
    // Between runs, the health check notices a death with one GET.
    const sid2 = Math.max(...server.sessions.keys());
    server.kill(sid2);
    const t = performance.now();
    await engine.checkSessions();
    detect.push(performance.now() - t);
  }
  const c = median(cold);
  const rows = [
    { case: 'cold start (boot + 3 steps)', median: c },
    { case: 'warm re-run (views reused)', median: median(warm) },
    { case: 'recovery after session death', median: median(recovery) },
    { case: 'death noticed by checkSessions', median: median(detect) },
  ];
  console.log(`Livy session recovery, ${ROUNDS} rounds, scripted boot ${BOOT_MS} ms (${os.cpus().length} cores)`);
  console.log('case'.padEnd(34), 'median ms', ' x cold', ' minus boot');
  for (const r of rows) {
    const minusBoot = r.case.startsWith('cold') || r.case.startsWith('recovery') ? (r.median - BOOT_MS).toFixed(1) : '';
    console.log(
      r.case.padEnd(34),
      r.median.toFixed(1).padStart(9),
      (r.median / c).toFixed(2).padStart(7),
      minusBoot.padStart(11),
    );
  }
  console.log(`cells reported stale per death: ${[...new Set(lost)].join(', ')}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/spark-session-recovery.json',
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: os.cpus().length,
        rounds: ROUNDS,
        bootMs: BOOT_MS,
        rows: rows.map((r) => ({ ...r, ratioToCold: r.median / c })),
        staleCellsPerDeath: [...new Set(lost)],
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await engine.close();
  await server.close();
}
