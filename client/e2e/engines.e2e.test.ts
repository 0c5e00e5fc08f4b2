// Remote warehouse engines from the browser: a user lists a Snowflake and a Databricks SQL connection in
// PIPEBOOK_HOME/pipebook.config.yaml, starts Pipebook, picks each connection as the notebook's engine in the toolbar
// and runs the demo notebook in real Chromium against the protocol test servers. The rows the page shows for
// top_countries must equal a DuckDB run of the same notebook over the same data, and no secret from the environment
// may reach the page: its HTML, any response it received, or localStorage.
import { generateKeyPairSync } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { type CellSnapshot, demoNotebookFile } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseSetupSql } from '../../kernel/test/contract/warehouse.ts';
import { type DatabricksTestServer, startDatabricksTestServer } from '../../kernel/test/servers/databricks/server.ts';
import { type SnowflakeTestServer, startSnowflakeTestServer } from '../../kernel/test/servers/snowflake/server.ts';
import { launchBrowser, openAs, type Pipebook, startPipebook, until, waitForEditor } from './harness.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const DBX_SECRET = 'e2e-browser-dbx-secret-51c0de';
const SECRET_ENV = { E2E_UI_SNOWFLAKE_KEY: PEM, E2E_UI_DATABRICKS_SECRET: DBX_SECRET } as const;
/** Every base64 line of the private key and the client secret: none may appear anywhere the browser can read. */
const NEEDLES = [...PEM.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----')), DBX_SECRET];

let snow: SnowflakeTestServer;
let dbx: DatabricksTestServer;
let pb: Pipebook;
let browser: Browser;
let want: string[][];
const savedEnv: Record<string, string | undefined> = {};

const cell = (page: Page, name: string) => page.locator(`section[data-cell-name="${name}"]`);

/** Numbers as the engines and the grid may spell them (12.5, "12.50", 12) compare equal; text stays text. */
function canon(v: unknown): string {
  const s = v === null || v === undefined ? 'NULL' : String(v);
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s).toFixed(2) : s;
}

function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in savedEnv)) savedEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

beforeAll(async () => {
  [snow, dbx] = await Promise.all([
    startSnowflakeTestServer({ account: 'e2e-acct', user: 'pipebook', publicKey }),
    startDatabricksTestServer({
      warehouseId: 'e2e-wh',
      oauthClients: [{ clientId: 'e2e-sp', clientSecret: DBX_SECRET }],
    }),
  ]);

  // The DuckDB run: the demo notebook's top_countries compiled for DuckDB over the tables both test servers hold.
  const duck = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con = await duck.connect();
  await con.run(warehouseSetupSql());
  const cells = demoNotebookFile().cells as CellSnapshot[];
  const sql = compileCell(cells, 'demo_top_countries' as CellSnapshot['id'], 'duckdb').sql;
  want = ((await con.runAndReadAll(sql)).getRowsJson() as unknown[][]).map((r) => r.map(canon));
  con.closeSync();
  duck.closeSync();
  expect(want.length).toBeGreaterThan(1);

  // The secrets live only in the environment of the processes Pipebook starts; the config names the variables.
  // The kernel's own DuckDB is not used here, so it skips generating its demo tables.
  setEnv({ ...SECRET_ENV, PIPEBOOK_DEMO_DATA: '0' });
  // The config file is in place before either server starts, as after a restart.
  pb = await startPipebook({
    files: {
      'pipebook.config.yaml': `engines:
  - name: snow
    type: snowflake
    account: e2e-acct
    user: pipebook
    url: ${snow.url}
    warehouse: COMPUTE_WH
    auth: { type: keypair, privateKeyEnv: E2E_UI_SNOWFLAKE_KEY }
  - name: lake
    type: databricks
    host: ${dbx.url}
    warehouseId: e2e-wh
    auth: { type: oauth-m2m, clientId: e2e-sp, clientSecretEnv: E2E_UI_DATABRICKS_SECRET }
`,
    },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await snow?.close();
  await dbx?.close();
});

/** Every response body the page received (assets excluded: they are the built app, not server answers). */
function recordResponses(context: BrowserContext): Promise<string>[] {
  const bodies: Promise<string>[] = [];
  context.on('response', (res) => {
    if (new URL(res.url()).pathname.startsWith('/assets/')) return;
    bodies.push(
      res
        .body()
        .then((b) => `${res.url()}\n${JSON.stringify(res.headers())}\n${b.toString('latin1')}`)
        .catch(() => `${res.url()}\n${JSON.stringify(res.headers())}`),
    );
  });
  return bodies;
}

async function gridRows(page: Page, name: string): Promise<string[][]> {
  const grid = cell(page, name).getByRole('grid');
  return grid.locator('.grid-row').evaluateAll((rows) =>
    rows
      .map((r) => ({
        i: Number(r.getAttribute('aria-rowindex')),
        cells: [...r.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent ?? ''),
      }))
      .sort((a, b) => a.i - b.i)
      .map((r) => r.cells),
  );
}

async function runDemoOn(page: Page, engine: string, server: { executions: string[] }) {
  const before = server.executions.length;
  await page.getByLabel('Notebook engine').selectOption(engine);
  await page.getByRole('button', { name: 'Run all', exact: true }).click();
  const status = cell(page, 'top_countries').locator('.cell-status[data-status="done"]');
  await until(
    `top_countries done on ${engine}`,
    async () => (await status.count()) === 1 && (await status.textContent())?.includes(` · ${engine} · `),
    30_000,
  );
  // The statements really went to the warehouse's test server.
  expect(server.executions.slice(before).some((q) => /country/i.test(q))).toBe(true);
  const headers = cell(page, 'top_countries').getByRole('grid').locator('.col-name');
  const columns = await until(`columns on ${engine}`, async () => {
    const c = await headers.allTextContents();
    return c.length > 0 ? c : undefined;
  });
  expect(columns.map((c) => c.toLowerCase())).toEqual(['country', 'revenue', 'order_count']);
  const rows = await until(`${want.length} rows on ${engine}`, async () => {
    const r = await gridRows(page, 'top_countries');
    return r.length === want.length && r.every((x) => !x.includes('…')) ? r : undefined;
  });
  expect(rows.map((r) => r.map(canon))).toEqual(want);
}

describe('warehouse connections in the browser', () => {
  it('picks each configured connection, runs the demo notebook on it, and shows the DuckDB rows; no secret leaks', async () => {
    const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', undefined, { template: 'demo' });
    const opened = await openAs(browser, pb, `/notebooks/${nb.id}`);
    const responses = recordResponses(opened.context);
    const { page } = opened;
    await waitForEditor(page, 'top_countries');

    // The connections from the config are offered next to the embedded engine.
    const picker = page.getByLabel('Notebook engine');
    await until('engines listed', async () => (await picker.locator('option').count()) >= 3);
    const offered = await picker.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(expect.arrayContaining(['duckdb', 'snow', 'lake']));
    expect(await picker.inputValue()).toBe('duckdb');

    await runDemoOn(page, 'snow', snow);
    await runDemoOn(page, 'lake', dbx);

    // Nothing the browser holds or received carries a secret.
    const html = await page.content();
    const storage = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
    await opened.context.close();
    const received = await Promise.all(responses);
    expect(received.some((b) => b.includes('/api/engines'))).toBe(true);
    expect(received.some((b) => b.includes('/api/results'))).toBe(true);
    for (const needle of NEEDLES) {
      expect(html.includes(needle), 'page HTML').toBe(false);
      expect(storage.includes(needle), 'localStorage').toBe(false);
      expect(
        received.filter((b) => b.includes(needle)).map((b) => b.split('\n')[0]),
        'responses',
      ).toEqual([]);
    }
    // The secrets were in use: the kernel signed key-pair JWTs and obtained OAuth tokens with them.
    expect(snow.jwtIssuedAt.length).toBeGreaterThan(0);
    expect(dbx.tokensIssued).toBeGreaterThan(0);
  });
});
