// A 10-million-row result: time to the first page through the kernel (target under 300 ms) and the kernel's peak
// memory, against reading the same result with @duckdb/node-api directly in this process (all rows into the heap,
// which is what the kernel avoids), in the same run.

import fs from 'node:fs';
import os from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { machine, median, notebook, startBenchStack, writeResults } from '../kernel/bench/harness.ts';

const ROWS = 10_000_000;
const SQL = `SELECT range AS id, hash(range) % 1000 AS bucket, 'row ' || range AS label, range * 0.5 AS half FROM range(${ROWS})`;

function rssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const stack = await startBenchStack({ PIPEBOOK_DEMO_ORDERS: '1000' });
try {
  const nb = await stack.createNotebook(notebook([{ id: 'c_big', name: 'big', source: SQL }]));
  const rssBefore = stack.kernelRssMb();
  const run = await stack.run({ notebookId: nb, cellId: 'c_big', scope: 'cell', force: true });
  const pageTimes: number[] = [];
  let firstPageColdMs = 0;
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    const res = await fetch(`${stack.kernelUrl}/api/results/${nb}/c_big?offset=0&limit=100`);
    const body = (await res.json()) as { rows: unknown[]; rowCount: number };
    const ms = performance.now() - t0;
    if (body.rows.length !== 100 || body.rowCount !== ROWS)
      throw new Error(`bad page: ${JSON.stringify(body).slice(0, 200)}`);
    if (i === 0) firstPageColdMs = ms;
    else pageTimes.push(ms);
  }
  const deepTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const res = await fetch(`${stack.kernelUrl}/api/results/${nb}/c_big?offset=${ROWS - 100}&limit=100`);
    await res.json();
    deepTimes.push(performance.now() - t0);
  }
  const arrowT0 = performance.now();
  const arrow = await fetch(`${stack.kernelUrl}/api/results/${nb}/c_big?offset=0&limit=10000&format=arrow`);
  const arrowBytes = (await arrow.arrayBuffer()).byteLength;
  const arrowMs = performance.now() - arrowT0;
  const kernelPeak = stack.kernelPeakRssMb();

  // Direct: the same query read into this process's heap with @duckdb/node-api.
  const inst = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await inst.connect();
  const directRssBefore = rssMb();
  const t0 = performance.now();
  // Every row read into this process (as DuckDB chunks; converting them to JS values as well took over a minute and
  // 5 GB here, so it is left out to keep the machine usable).
  const all = await conn.runAndReadAll(SQL);
  const directAllMs = performance.now() - t0;
  if (all.currentRowCount !== ROWS) throw new Error(`direct read short: ${all.currentRowCount}`);
  const directPeak = rssMb();
  const t1 = performance.now();
  await conn.runAndReadAll(`${SQL} LIMIT 100`);
  const directLimitMs = performance.now() - t1;
  conn.closeSync();
  inst.closeSync();

  const out = {
    machine: machine(),
    loadAverage: os.loadavg(),
    rows: ROWS,
    kernel: {
      runMs: run.ms,
      firstPageColdMs,
      firstPageMedianMs: median(pageTimes),
      lastPageMedianMs: median(deepTimes),
      arrowPage10kMs: arrowMs,
      arrowPage10kBytes: arrowBytes,
      rssBeforeRunMb: rssBefore,
      peakRssMb: kernelPeak,
      target: { firstPageMs: 300 },
    },
    direct: {
      readAllRowsMs: directAllMs,
      readFirst100WithLimitMs: directLimitMs,
      peakRssMb: directPeak,
      rssBeforeMb: directRssBefore,
    },
  };
  console.log(`first page of a ${ROWS.toLocaleString()}-row result`);
  console.table({
    kernel: {
      'result ready ms': run.ms.toFixed(0),
      'first page ms (median)': out.kernel.firstPageMedianMs.toFixed(1),
      'first page cold ms': firstPageColdMs.toFixed(1),
      'last page ms': out.kernel.lastPageMedianMs.toFixed(1),
      'peak RSS MB': kernelPeak.toFixed(0),
    },
    'direct node-api (all rows read)': {
      'result ready ms': directAllMs.toFixed(0),
      'first page ms (median)': '-',
      'first page cold ms': '-',
      'last page ms': '-',
      'peak RSS MB': directPeak.toFixed(0),
    },
  });
  console.log(
    `peak RSS kernel / direct: ${(kernelPeak / directPeak).toFixed(2)}; Arrow page of 10,000 rows: ${arrowMs.toFixed(0)} ms, ${(arrowBytes / 1024).toFixed(0)} KB`,
  );
  console.log(
    `load average during the run: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  writeResults('kernel-first-page.json', out);
} finally {
  await stack.cleanup();
}
