// Per-run overhead of the kernel over calling @duckdb/node-api directly, in the same run on the same machine:
// a trivial query (target: under 5 ms more per run), and a query that takes about a second (target: at most 1.05x).
// The kernel path is the whole product path: POST /api/runs, plan from the live notebook replica, queue, execute
// into Parquet, statuses written to the shared document, and the SSE stream read until `run_finished` (in the POST's
// own response; the two-request form, POST then GET events, is measured too).
import os from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { machine, median, notebook, percentile, startBenchStack, writeResults } from '../kernel/bench/harness.ts';

const TRIVIAL = 'SELECT 42 AS answer';
const stack = await startBenchStack({ PIPEBOOK_DEMO_ORDERS: '1000' });
const direct = await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
});
const conn = await direct.connect();
try {
  // ~1 s on this machine directly (median of three timings per size); sized once so both sides run the same SQL.
  let n = 20_000_000;
  let heavy = '';
  for (let attempt = 0; attempt < 6; attempt++) {
    heavy = `SELECT sum(hash(range) % 1000) AS s FROM range(${n})`;
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      await conn.runAndReadAll(heavy);
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    if (ms > 750 && ms < 1400) break;
    n = Math.max(1_000_000, Math.round((n * 1000) / Math.max(ms, 1)));
  }
  const nb = await stack.createNotebook(
    notebook([
      { id: 'c_trivial', name: 'trivial', source: TRIVIAL },
      { id: 'c_heavy', name: 'heavy', source: heavy },
    ]),
  );

  const directTrivial: number[] = [];
  const kernelTrivial: number[] = [];
  const kernelTrivialTwoRequests: number[] = [];
  const inKernel: number[] = [];
  const trivialRun = { notebookId: nb, cellId: 'c_trivial', scope: 'cell' as const, force: true };
  for (let i = 0; i < 230; i++) {
    const t0 = performance.now();
    await conn.runAndReadAll(TRIVIAL);
    const d = performance.now() - t0;
    const k = await stack.run(trivialRun, { stream: true });
    const k2 = (await stack.run(trivialRun)).ms;
    // The first runs warm up JIT, the notebook replica and the connection pools.
    if (i >= 30) {
      directTrivial.push(d);
      kernelTrivial.push(k.ms);
      kernelTrivialTwoRequests.push(k2);
      const fin = k.events.find((e) => e.type === 'cell_finished');
      if (fin?.type === 'cell_finished' && fin.durationMs !== undefined) inKernel.push(fin.durationMs);
    }
  }
  const directHeavy: number[] = [];
  const kernelHeavy: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await conn.runAndReadAll(heavy);
    directHeavy.push(performance.now() - t0);
    kernelHeavy.push(
      (await stack.run({ notebookId: nb, cellId: 'c_heavy', scope: 'cell', force: true }, { stream: true })).ms,
    );
  }
  const out = {
    machine: machine(),
    loadAverage: os.loadavg(),
    trivial: {
      runs: kernelTrivial.length,
      directMedianMs: median(directTrivial),
      kernelMedianMs: median(kernelTrivial),
      kernelP90Ms: percentile(kernelTrivial, 90),
      overheadMedianMs: median(kernelTrivial) - median(directTrivial),
      kernelTwoRequestsMedianMs: median(kernelTrivialTwoRequests),
      cellStartToFinishMedianMs: median(inKernel),
      targetMs: 5,
    },
    heavy: {
      sql: heavy,
      runs: kernelHeavy.length,
      directMedianMs: median(directHeavy),
      kernelMedianMs: median(kernelHeavy),
      ratio: median(kernelHeavy) / median(directHeavy),
      // The machine is shared: the best of each side is the figure least disturbed by other load.
      directMinMs: Math.min(...directHeavy),
      kernelMinMs: Math.min(...kernelHeavy),
      ratioOfMins: Math.min(...kernelHeavy) / Math.min(...directHeavy),
      target: 1.05,
    },
  };
  console.log('kernel per-run overhead (median of runs, interleaved with direct calls)');
  console.table({
    'trivial query': {
      'direct ms': out.trivial.directMedianMs.toFixed(2),
      'kernel ms': out.trivial.kernelMedianMs.toFixed(2),
      'overhead ms': out.trivial.overheadMedianMs.toFixed(2),
      target: '< 5 ms',
    },
    'trivial, POST then GET events': {
      'direct ms': out.trivial.directMedianMs.toFixed(2),
      'kernel ms': out.trivial.kernelTwoRequestsMedianMs.toFixed(2),
      'overhead ms': (out.trivial.kernelTwoRequestsMedianMs - out.trivial.directMedianMs).toFixed(2),
      target: '',
    },
    '~1 s query': {
      'direct ms': out.heavy.directMedianMs.toFixed(0),
      'kernel ms': out.heavy.kernelMedianMs.toFixed(0),
      'overhead ms': (out.heavy.kernelMedianMs - out.heavy.directMedianMs).toFixed(1),
      target: `ratio ${out.heavy.ratio.toFixed(3)} (<= 1.05)`,
    },
    '~1 s query, best of each': {
      'direct ms': out.heavy.directMinMs.toFixed(0),
      'kernel ms': out.heavy.kernelMinMs.toFixed(0),
      'overhead ms': (out.heavy.kernelMinMs - out.heavy.directMinMs).toFixed(1),
      target: `ratio ${out.heavy.ratioOfMins.toFixed(3)} (<= 1.05)`,
    },
  });
  console.log(
    `load average during the run: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  writeResults('kernel-overhead.json', out);
} finally {
  conn.closeSync();
  direct.closeSync();
  await stack.cleanup();
}
