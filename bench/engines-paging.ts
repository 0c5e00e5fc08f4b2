// Paging throughput of the warehouse clients for a 1M-row result (id BIGINT, half DOUBLE, label VARCHAR), against
// their test servers, compared with a bare client of the same protocol in the same run:
//   bare    fetch every partition/chunk with plain fetch + JSON.parse, no conversion, sequentially
//   engine  SnowflakeEngine / DatabricksEngine.execute, batches drained (type conversion, prefetch of the next page)
// The test servers run in child processes (as a warehouse would be elsewhere), so serving the next page overlaps with
// converting this one. `first ms` is the server's time to the first answer (DuckDB runs the query and encodes 1M rows
// as strings: test-server cost, not client cost); `paging rows/s` counts only what comes after it, which is what the
// client's paging loop is responsible for. `npx tsx bench/engines-paging.ts` prints a table and writes
// bench/results/engines-paging.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabricksEngine } from '../kernel/src/engines/databricks/engine.ts';
import type { Engine } from '../kernel/src/engines/engine.ts';
import { SnowflakeEngine } from '../kernel/src/engines/snowflake/engine.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PAGE = Number(process.env.BENCH_PAGE_ROWS ?? 50_000);
const SQL = 'SELECT id, half, label FROM big_numbers';

const children: ChildProcess[] = [];
const home = mkdtempSync(path.join(os.tmpdir(), 'pipebook-bench-'));
/** Starts a test server's main.ts in a child process and returns the URL it prints. */
async function startServer(which: 'snowflake' | 'databricks'): Promise<{ url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `kernel/test/servers/${which}/main.ts`], {
    env: {
      ...process.env,
      PORT: '0',
      PIPEBOOK_HOME: home,
      PIPEBOOK_TEST_BIG_ROWS: String(ROWS),
      PIPEBOOK_TEST_PAGE_ROWS: String(PAGE),
      PIPEBOOK_TEST_SNOWFLAKE_TOKEN: 'tok',
      PIPEBOOK_TEST_DATABRICKS_TOKEN: 'pat',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = / on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`${which} test server exited (${code})`)));
  });
}
const [snow, dbx] = await Promise.all([startServer('snowflake'), startServer('databricks')]);
const snowEngine = new SnowflakeEngine(
  {
    name: 's',
    type: 'snowflake',
    account: 'bench',
    user: 'bench',
    url: snow.url,
    auth: { type: 'oauth', tokenEnv: 'T' },
  },
  { env: { T: 'tok' } },
);
const dbxEngine = new DatabricksEngine(
  {
    name: 'd',
    type: 'databricks',
    host: dbx.url,
    warehouseId: 'pipebook-test-warehouse',
    disposition: 'external_links',
    auth: { type: 'pat', tokenEnv: 'T' },
  },
  { env: { T: 'pat' } },
);

async function engineRun(e: Engine): Promise<{ rows: number; ms: number; firstMs: number }> {
  const t = performance.now();
  const out = await e.execute({ sql: SQL, signal: new AbortController().signal, resultPath: '' });
  const firstMs = performance.now() - t;
  let rows = 0;
  if (out.type === 'stream') for await (const b of out.batches) rows += b.length;
  return { rows, ms: performance.now() - t, firstMs };
}

async function bareSnowflake(): Promise<{ rows: number; ms: number; firstMs: number }> {
  const h = {
    Authorization: 'Bearer tok',
    'User-Agent': 'bench/1',
    'Content-Type': 'application/json',
    'Accept-Encoding': 'gzip',
  };
  const t = performance.now();
  const first = (await (
    await fetch(`${snow.url}/api/v2/statements?requestId=${crypto.randomUUID()}`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ statement: SQL }),
    })
  ).json()) as { statementHandle: string; data: unknown[][]; resultSetMetaData: { partitionInfo: unknown[] } };
  const firstMs = performance.now() - t;
  let rows = first.data.length;
  for (let i = 1; i < first.resultSetMetaData.partitionInfo.length; i++) {
    const p = (await (
      await fetch(`${snow.url}/api/v2/statements/${first.statementHandle}?partition=${i}`, { headers: h })
    ).json()) as { data: unknown[][] };
    rows += p.data.length;
  }
  return { rows, ms: performance.now() - t, firstMs };
}

async function bareDatabricks(): Promise<{ rows: number; ms: number; firstMs: number }> {
  const h = { Authorization: 'Bearer pat', 'Content-Type': 'application/json' };
  type Links = { external_links?: Array<{ external_link: string; next_chunk_internal_link?: string }> };
  const t = performance.now();
  const first = (await (
    await fetch(`${dbx.url}/api/2.0/sql/statements`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        statement: SQL,
        warehouse_id: 'pipebook-test-warehouse',
        wait_timeout: '50s',
        disposition: 'EXTERNAL_LINKS',
      }),
    })
  ).json()) as { result: Links };
  const firstMs = performance.now() - t;
  let rows = 0;
  let chunk: Links | undefined = first.result;
  while (chunk?.external_links?.length) {
    const link: { external_link: string; next_chunk_internal_link?: string } = chunk.external_links[0];
    rows += ((await (await fetch(link.external_link)).json()) as unknown[][]).length;
    chunk = link.next_chunk_internal_link
      ? ((await (await fetch(`${dbx.url}${link.next_chunk_internal_link}`, { headers: h })).json()) as Links)
      : undefined;
  }
  return { rows, ms: performance.now() - t, firstMs };
}

try {
  // One warm-up each (JIT, DuckDB caches), then the measured runs, alternating.
  await bareSnowflake();
  await engineRun(snowEngine);
  const runs = {
    snowBare: await bareSnowflake(),
    snowEngine: await engineRun(snowEngine),
    dbxBare: await bareDatabricks(),
    dbxEngine: await engineRun(dbxEngine),
  };
  for (const r of Object.values(runs)) if (r.rows !== ROWS) throw new Error(`expected ${ROWS} rows, got ${r.rows}`);
  const rate = (r: { rows: number; ms: number; firstMs: number }) => (r.rows - PAGE) / ((r.ms - r.firstMs) / 1000);
  const rows = [
    { engine: 'snowflake', case: 'bare: fetch + JSON.parse per partition', ...runs.snowBare, base: runs.snowBare },
    { engine: 'snowflake', case: 'engine: SnowflakeEngine, converted rows', ...runs.snowEngine, base: runs.snowBare },
    { engine: 'databricks', case: 'bare: EXTERNAL_LINKS fetch + JSON.parse', ...runs.dbxBare, base: runs.dbxBare },
    { engine: 'databricks', case: 'engine: DatabricksEngine, converted rows', ...runs.dbxEngine, base: runs.dbxBare },
  ].map(({ base, ...r }) => ({ ...r, rowsPerSec: rate(r), ratioToBare: rate(r) / rate(base) }));
  console.log(
    `Warehouse paging, ${ROWS.toLocaleString('en-US')} rows in pages of ${PAGE.toLocaleString('en-US')}, ${os.cpus().length} cores`,
  );
  console.log('engine'.padEnd(11), 'case'.padEnd(42), 'first ms', ' total ms', ' paging rows/s', ' x bare');
  for (const r of rows)
    console.log(
      r.engine.padEnd(11),
      r.case.padEnd(42),
      r.firstMs.toFixed(0).padStart(8),
      r.ms.toFixed(0).padStart(9),
      Math.round(r.rowsPerSec).toLocaleString('en-US').padStart(14),
      r.ratioToBare.toFixed(2).padStart(7),
    );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/engines-paging.json',
    `${JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, rows: ROWS, pageRows: PAGE, results: rows }, null, 2)}\n`,
  );
} finally {
  await snowEngine.close();
  await dbxEngine.close();
  for (const c of children) c.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
}
