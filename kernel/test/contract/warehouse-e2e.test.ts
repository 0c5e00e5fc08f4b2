// End to end: a user adds Snowflake and Databricks connections to PIPEBOOK_HOME/pipebook.config.yaml, restarts the
// kernel, picks a connection as the notebook's engine and runs the demo notebook on it through the kernel HTTP API,
// against the test servers. Then every place a secret could leak (notebook document, exports, Git, kernel log, API
// responses) is searched for the secret values.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type CellSnapshot, demoNotebookFile, exportNotebook, readRuns } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionEngines } from '../../src/engines/connections.ts';
import { DuckDBWarehouse } from '../../src/engines/duckdb.ts';
import { registerEngineFactory } from '../../src/engines/registry.ts';
import { type KernelHandle, startKernel } from '../../src/server.ts';
import { type DatabricksTestServer, startDatabricksTestServer } from '../servers/databricks/server.ts';
import { type SnowflakeTestServer, startSnowflakeTestServer } from '../servers/snowflake/server.ts';
import {
  api,
  createNotebookFrom,
  finished,
  kernelApi,
  newClient,
  page,
  runToEnd,
  type Stack,
  startStack,
  waitFor,
} from '../stack.ts';
import { canonRows } from './rows.ts';
import { warehouseSetupSql } from './warehouse.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const DBX_SECRET = 'e2e-dbx-client-secret-7f3a9c';
const ENV = { E2E_SNOWFLAKE_KEY: PEM, E2E_DATABRICKS_SECRET: DBX_SECRET } as const;
/** Pieces of the secrets that must never show up anywhere: every base64 line of the key, and the client secret. */
const SECRET_NEEDLES = [...PEM.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----')), DBX_SECRET];

let s: Stack;
let kernel: KernelHandle;
let snow: SnowflakeTestServer;
let dbx: DatabricksTestServer;
let reference: DuckDBWarehouse;
const logs: string[] = [];
/** Every body the kernel (and the collab server, for exports) answered in this file. */
const responses: string[] = [];
const notebooks: string[] = [];

async function kernelGet<T>(route: string): Promise<T> {
  const r = await kernelApi<T>({ ...s, kernel }, route);
  responses.push(JSON.stringify(r.body));
  expect(r.status, route).toBe(200);
  return r.body;
}

// What kernel/src/main.ts does before starting the kernel.
registerEngineFactory(connectionEngines);

beforeAll(async () => {
  snow = await startSnowflakeTestServer({ account: 'e2e-acct', user: 'pipebook', publicKey });
  dbx = await startDatabricksTestServer({
    warehouseId: 'e2e-wh',
    oauthClients: [{ clientId: 'e2e-sp', clientSecret: DBX_SECRET }],
  });
  s = await startStack({ overrides: { log: (m) => logs.push(m) } });
  kernel = s.kernel;
  reference = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [] });
  await reference.run(warehouseSetupSql());
});

afterAll(async () => {
  for (const k of Object.keys(ENV)) delete process.env[k];
  await kernel?.close().catch(() => {});
  await s?.collab.cleanup();
  if (s) fs.rmSync(s.home, { recursive: true, force: true });
  await snow?.close();
  await dbx?.close();
  await reference?.close();
});

describe('warehouse connections end to end', () => {
  it('a connection added to the config appears after a restart and runs the demo notebook', async () => {
    const before = await kernelGet<{ engines: { name: string }[] }>('/api/engines');
    expect(before.engines.map((e) => e.name)).not.toContain('snow');

    fs.writeFileSync(
      path.join(s.home, 'pipebook.config.yaml'),
      `engines:
  - name: snow
    type: snowflake
    account: e2e-acct
    user: pipebook
    url: ${snow.url}
    warehouse: COMPUTE_WH
    auth: { type: keypair, privateKeyEnv: E2E_SNOWFLAKE_KEY }
  - name: lake
    type: databricks
    host: ${dbx.url}
    warehouseId: e2e-wh
    auth: { type: oauth-m2m, clientId: e2e-sp, clientSecretEnv: E2E_DATABRICKS_SECRET }
  - name: unset
    type: databricks
    host: ${dbx.url}
    warehouseId: e2e-wh
    auth: { type: pat, tokenEnv: E2E_NOT_SET_TOKEN }
`,
    );
    Object.assign(process.env, ENV);
    await kernel.close();
    kernel = await startKernel(s.kernel.config, { log: (m) => logs.push(m) });

    const after = await kernelGet<{ engines: { name: string; type: string; dialect: string; label: string }[] }>(
      '/api/engines',
    );
    const byName = new Map(after.engines.map((e) => [e.name, e]));
    expect(byName.get('snow')).toMatchObject({ type: 'snowflake', dialect: 'snowflake' });
    expect(byName.get('lake')).toMatchObject({ type: 'databricks', dialect: 'databricks' });
    expect(byName.get('unset')?.label).toContain('not available');

    const cells = demoNotebookFile().cells as CellSnapshot[];
    const refSql = compileCell(cells, 'demo_top_countries' as CellSnapshot['id'], 'duckdb').sql;
    const want = canonRows((await reference.readAll(refSql)).rowsJs, true);
    for (const [engine, server] of [
      ['snow', snow],
      ['lake', dbx],
    ] as const) {
      const nb = await createNotebookFrom(
        { ...s, kernel },
        { ...demoNotebookFile(`Demo on ${engine}`), defaultEngine: engine },
      );
      notebooks.push(nb);
      const { created, events } = await runToEnd({ ...s, kernel }, { notebookId: nb, scope: 'all' });
      responses.push(JSON.stringify(created), JSON.stringify(events));
      expect(created.cells.every((c) => c.engine === engine)).toBe(true);
      const done = finished(events);
      for (const id of [
        'demo_orders_clean',
        'demo_orders_customers',
        'demo_revenue_by_country',
        'demo_top_countries',
        'demo_report',
      ])
        expect(done.get(id)?.status, `${engine} ${id}: ${JSON.stringify(done.get(id))}`).toBe('done');
      const top = await page({ ...s, kernel }, nb, 'demo_top_countries');
      responses.push(JSON.stringify(top.body));
      expect(top.status).toBe(200);
      expect(top.body.columns.map((c) => c.name.toLowerCase())).toEqual(['country', 'revenue', 'order_count']);
      expect(canonRows(top.body.rows, true)).toEqual(want);
      // The target cell wrote its table on the warehouse, not in the kernel.
      expect(server.executions.some((q) => /CREATE OR REPLACE TABLE .revenue_by_country_report/i.test(q))).toBe(true);
      const catalog = await kernelGet<{ tables: { name: string }[] }>(`/api/engines/${engine}/catalog`);
      expect(catalog.tables.map((t) => t.name.toLowerCase())).toContain('orders');
    }
  });

  it('an unset secret is reported by variable name; a SQL error on a warehouse lands on its cell', async () => {
    const r = await kernelApi<{ error: { code: string; message: string } }>(
      { ...s, kernel },
      '/api/engines/unset/catalog',
    );
    responses.push(JSON.stringify(r.body));
    expect(r.body.error).toMatchObject({ code: 'invalid_config' });
    expect(r.body.error.message).toContain('E2E_NOT_SET_TOKEN');

    const file = demoNotebookFile('Broken on snow');
    file.defaultEngine = 'snow';
    file.cells.push({
      id: 'bad_cell',
      name: 'bad',
      kind: 'sql',
      source: 'SELECT order_id,\n  amountt\nFROM orders_clean',
      config: {},
    });
    const nb = await createNotebookFrom({ ...s, kernel }, file);
    notebooks.push(nb);
    const { events } = await runToEnd({ ...s, kernel }, { notebookId: nb, cellId: 'bad_cell', scope: 'cell' });
    responses.push(JSON.stringify(events));
    const bad = finished(events).get('bad_cell');
    expect(bad?.status).toBe('error');
    expect(JSON.stringify(bad)).toContain('AMOUNTT');
    const client = newClient(s.collab.url, nb);
    await client.synced();
    await waitFor(() => readRuns(client.doc).bad_cell?.status === 'error', 5000, 'the error summary');
    expect(readRuns(client.doc).bad_cell?.error).toMatchObject({ code: 'sql_error', line: 2, column: 3 });
    client.destroy();
  });

  it('shows state and elapsed time while a remote statement runs, then rows as they page in', async () => {
    snow.script({ match: 'e2e_slow', queuedMs: 200, runningMs: 1200, partitionRows: 5000 });
    const file = demoNotebookFile('Slow on snow');
    file.defaultEngine = 'snow';
    file.cells = [
      { id: 'nums', name: 'nums', kind: 'source', source: '', config: { type: 'table', table: 'numbers' } },
      { id: 'slow', name: 'slow', kind: 'sql', source: "SELECT id, label, 'e2e_slow' AS tag\nFROM nums", config: {} },
    ];
    const nb = await createNotebookFrom({ ...s, kernel }, file);
    notebooks.push(nb);
    const { events } = await runToEnd({ ...s, kernel }, { notebookId: nb, cellId: 'slow', scope: 'cell' });
    responses.push(JSON.stringify(events));
    snow.script({ match: undefined, queuedMs: 0, runningMs: 0, partitionRows: 10_000 });
    expect(finished(events).get('slow')).toMatchObject({ status: 'done', rowCount: 20_000 });
    const progress = events.filter((e) => e.type === 'cell_progress' && e.cellId === 'slow') as Array<{
      message?: string;
      rows?: number;
    }>;
    expect(progress.some((p) => /^running · \d+\.\d s$/.test(p.message ?? ''))).toBe(true);
    const rows = progress.map((p) => p.rows).filter((r): r is number => r !== undefined);
    expect(rows).toContain(5000);
    expect(Math.max(...rows)).toBe(20_000);
  });

  it('a cell can override the notebook default engine', async () => {
    const file = demoNotebookFile('Mixed engines');
    file.defaultEngine = 'duckdb';
    file.cells = [
      { id: 'local', name: 'local', kind: 'sql', source: 'SELECT 41 + 1 AS answer', config: {} },
      {
        id: 'remote_src',
        name: 'nums',
        kind: 'source',
        source: '',
        config: { type: 'table', table: 'numbers' },
        engine: 'lake',
      },
      {
        id: 'remote',
        name: 'buckets',
        kind: 'sql',
        source: 'SELECT bucket, count(*) AS n\nFROM nums\nGROUP BY bucket',
        config: {},
        engine: 'lake',
      },
    ];
    const nb = await createNotebookFrom({ ...s, kernel }, file);
    notebooks.push(nb);
    const { created, events } = await runToEnd({ ...s, kernel }, { notebookId: nb, scope: 'all' });
    responses.push(JSON.stringify(created), JSON.stringify(events));
    expect(Object.fromEntries(created.cells.map((c) => [c.cellId, c.engine]))).toMatchObject({
      local: 'duckdb',
      remote_src: 'lake',
      remote: 'lake',
    });
    expect(finished(events).get('remote')).toMatchObject({ status: 'done', rowCount: 10 });
    expect(dbx.executions.some((q) => /GROUP BY bucket/.test(q))).toBe(true);
    const local = await page({ ...s, kernel }, nb, 'local');
    expect(local.body.rows).toEqual([[42]]);
  });

  it('no secret appears in the documents, exports, Git, kernel log or any response', async () => {
    const haystacks: Array<[string, string]> = [];
    for (const nb of notebooks) {
      const client = newClient(s.collab.url, nb);
      await client.synced();
      haystacks.push([
        `document ${nb}`,
        JSON.stringify({ file: exportNotebook(client.doc), runs: readRuns(client.doc) }),
      ]);
      client.destroy();
      const exported = await api(s.collab.url, `/api/notebooks/${nb}/export`);
      haystacks.push([`export ${nb}`, JSON.stringify(exported.body)]);
      const snap = await api(s.collab.url, `/api/notebooks/${nb}/git/snapshot`, {
        method: 'POST',
        body: { message: 'e2e' },
      });
      expect([200, 201]).toContain(snap.status);
      const project = await api(s.collab.url, `/api/notebooks/${nb}/git/export?format=json`);
      expect(project.status).toBe(200);
      haystacks.push([`git export ${nb}`, JSON.stringify(project.body)]);
    }
    // Everything on disk under PIPEBOOK_HOME except the config file (which names env vars, not values): git
    // repositories, collab store, results.
    const walk = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
    for (const f of walk(s.home))
      if (!f.endsWith('pipebook.config.yaml')) haystacks.push([f, fs.readFileSync(f).toString('latin1')]);
    haystacks.push(['kernel log', logs.join('\n')]);
    haystacks.push(['kernel responses', responses.join('\n')]);
    expect(haystacks.length).toBeGreaterThan(10);
    expect(logs.length).toBeGreaterThan(0);
    for (const [where, text] of haystacks)
      for (const needle of SECRET_NEEDLES) expect(text.includes(needle), `${where} contains a secret`).toBe(false);
  });
});
