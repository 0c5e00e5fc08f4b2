// What the warehouse clients add to one small statement, measured against their test servers in the same run:
//   floor     one bare HTTP round trip (GET of a finished statement)
//   protocol  the bare protocol for one statement: Snowflake POST that waits (200 at once), Databricks POST with
//             wait_timeout (SUCCEEDED at once); JSON parsed, no client logic
//   client    SnowflakeEngine / DatabricksEngine .execute of the same SQL, batches drained (auth header, retries,
//             type conversion, progress)
// `npx tsx bench/engines-statement-overhead.ts` prints a table and writes bench/results/engines-statement-overhead.json.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { DatabricksEngine } from '../kernel/src/engines/databricks/engine.ts';
import type { Engine } from '../kernel/src/engines/engine.ts';
import { SnowflakeEngine } from '../kernel/src/engines/snowflake/engine.ts';
import { createWarehouse } from '../kernel/test/contract/warehouse.ts';
import { startDatabricksTestServer } from '../kernel/test/servers/databricks/server.ts';
import { startSnowflakeTestServer } from '../kernel/test/servers/snowflake/server.ts';

const N = Number(process.env.BENCH_N ?? 200);
const SQL = 'SELECT 1 AS one';

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Runs the cases round-robin so machine noise (2 shared cores) falls on all of them alike. */
async function interleaved(n: number, fns: Array<() => Promise<unknown>>): Promise<number[][]> {
  for (let i = 0; i < Math.min(20, n); i++) for (const f of fns) await f();
  const out = fns.map(() => [] as number[]);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < fns.length; k++) {
      const t = performance.now();
      await fns[k]();
      out[k].push(performance.now() - t);
    }
  return out;
}

async function drain(e: Engine) {
  const out = await e.execute({ sql: SQL, signal: new AbortController().signal, resultPath: '' });
  if (out.type === 'stream') for await (const _ of out.batches);
}

const warehouse = await createWarehouse({ numbers: 10 });
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const snow = await startSnowflakeTestServer({
  warehouse,
  account: 'bench',
  user: 'bench',
  publicKey,
  oauthTokens: ['tok'],
});
const dbx = await startDatabricksTestServer({ warehouse, warehouseId: 'wh', pats: ['pat'] });
const snowOauth = new SnowflakeEngine(
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
const snowJwt = new SnowflakeEngine(
  {
    name: 's',
    type: 'snowflake',
    account: 'bench',
    user: 'bench',
    url: snow.url,
    auth: { type: 'keypair', privateKeyEnv: 'K' },
  },
  { env: { K: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string } },
);
const dbxPat = new DatabricksEngine(
  { name: 'd', type: 'databricks', host: dbx.url, warehouseId: 'wh', auth: { type: 'pat', tokenEnv: 'T' } },
  { env: { T: 'pat' } },
);

try {
  const sfHeaders = { Authorization: 'Bearer tok', 'User-Agent': 'bench/1', 'Content-Type': 'application/json' };
  const sfPost = () =>
    fetch(`${snow.url}/api/v2/statements?requestId=${crypto.randomUUID()}`, {
      method: 'POST',
      headers: sfHeaders,
      body: JSON.stringify({ statement: SQL }),
    }).then((r) => r.json() as Promise<{ statementHandle: string }>);
  const sfHandle = (await sfPost()).statementHandle;
  const dbHeaders = { Authorization: 'Bearer pat', 'Content-Type': 'application/json' };
  const dbPost = () =>
    fetch(`${dbx.url}/api/2.0/sql/statements`, {
      method: 'POST',
      headers: dbHeaders,
      body: JSON.stringify({ statement: SQL, warehouse_id: 'wh', wait_timeout: '5s' }),
    }).then((r) => r.json() as Promise<{ statement_id: string }>);
  const dbId = (await dbPost()).statement_id;

  const [sfFloor, sfProtocol, sfOauth, sfJwt] = await interleaved(N, [
    async () => (await fetch(`${snow.url}/api/v2/statements/${sfHandle}`, { headers: sfHeaders })).json(),
    sfPost,
    () => drain(snowOauth),
    () => drain(snowJwt),
  ]);
  const sf = { floor: sfFloor, protocol: sfProtocol, oauth: sfOauth, jwt: sfJwt };
  const [dbFloor, dbProtocol, dbPat] = await interleaved(N, [
    async () => (await fetch(`${dbx.url}/api/2.0/sql/statements/${dbId}`, { headers: dbHeaders })).json(),
    dbPost,
    () => drain(dbxPat),
  ]);
  const db = { floor: dbFloor, protocol: dbProtocol, pat: dbPat };

  const rows = [
    { engine: 'snowflake', case: 'floor: one bare HTTP round trip', base: sf.protocol, floor: sf.floor, ms: sf.floor },
    {
      engine: 'snowflake',
      case: 'protocol: bare POST (waits, 200)',
      base: sf.protocol,
      floor: sf.floor,
      ms: sf.protocol,
    },
    { engine: 'snowflake', case: 'client: SnowflakeEngine (OAuth)', base: sf.protocol, floor: sf.floor, ms: sf.oauth },
    {
      engine: 'snowflake',
      case: 'client: SnowflakeEngine (key-pair JWT)',
      base: sf.protocol,
      floor: sf.floor,
      ms: sf.jwt,
    },
    { engine: 'databricks', case: 'floor: one bare HTTP round trip', base: db.protocol, floor: db.floor, ms: db.floor },
    {
      engine: 'databricks',
      case: 'protocol: bare POST wait_timeout=5s',
      base: db.protocol,
      floor: db.floor,
      ms: db.protocol,
    },
    { engine: 'databricks', case: 'client: DatabricksEngine (PAT)', base: db.protocol, floor: db.floor, ms: db.pat },
  ].map((r) => {
    const st = stats(r.ms);
    return {
      engine: r.engine,
      case: r.case,
      ...st,
      ratioToProtocol: st.median / stats(r.base).median,
      ratioToFloor: st.median / stats(r.floor).median,
      overheadMs: st.median - stats(r.base).median,
    };
  });
  console.log(`Warehouse statement overhead, ${N} statements each, ${os.cpus().length} cores`);
  console.log('engine'.padEnd(11), 'case'.padEnd(40), 'median ms', '  p90 ms', ' x protocol', ' x floor');
  for (const r of rows)
    console.log(
      r.engine.padEnd(11),
      r.case.padEnd(40),
      r.median.toFixed(2).padStart(9),
      r.p90.toFixed(2).padStart(8),
      r.ratioToProtocol.toFixed(2).padStart(11),
      r.ratioToFloor.toFixed(2).padStart(8),
    );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/engines-statement-overhead.json',
    `${JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, n: N, rows }, null, 2)}\n`,
  );
} finally {
  await snowOauth.close();
  await snowJwt.close();
  await dbxPat.close();
  await snow.close();
  await dbx.close();
  warehouse.close();
}
