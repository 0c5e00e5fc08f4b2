// Spark sessions from the browser: a notebook on a Livy connection (from PIPEBOOK_HOME/pipebook.config.yaml) runs SQL
// and PySpark cells against the Livy test server in real Chromium, with one cell on a Databricks cluster (Command
// Execution test server). The toolbar shows each session's lifecycle as the kernel lists it: starting while the remote
// side boots it, busy while a long statement runs, then idle. When Livy loses the PySpark session (or the cluster its
// context), the toolbar shows it dead and exactly the cells whose results lived in it turn stale on the page, with the
// reason, while the cells held by the SQL session and a DuckDB cell stay done.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandTestServer, startCommandServer } from '../../kernel/test/servers/databricks-commands/server.ts';
import { type LivyTestServer, startLivyServer } from '../../kernel/test/servers/livy/server.ts';
import { launchBrowser, openAs, type Pipebook, startPipebook, until, waitForEditor } from './harness.ts';

const SEED_SQL = [
  "CREATE TABLE customers AS SELECT range AS id, 'customer ' || range AS name, ['north','south','east'][1 + range % 3] AS region FROM range(1, 31)",
  'CREATE TABLE orders AS SELECT range AS id, 1 + range % 30 AS customer_id, (range * 37) % 500 AS amount FROM range(1, 301)',
];
/** Long enough that the page's session poll (every 1.5 s) must land while Livy is still booting the session. */
const BOOT = { notStarted: 1000, starting: 1500 };

const CLUSTER_TOKEN = 'dapi-e2e-cluster-token';

let livy: LivyTestServer;
let cluster: CommandTestServer;
let pb: Pipebook;
let browser: Browser;
const savedEnv: Record<string, string | undefined> = {};

const cell = (page: Page, name: string) => page.locator(`section[data-cell-name="${name}"]`);
const statusOf = (page: Page, name: string) => cell(page, name).locator('.cell-status');

function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in savedEnv)) savedEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

beforeAll(async () => {
  livy = await startLivyServer({
    seedSql: SEED_SQL,
    csrf: true,
    bootDelaysMs: BOOT,
    // The report statement runs for two poll intervals, so the page must see its session busy.
    statementDurationMs: (code) => (code.includes('ORDER BY customer_id') ? 3000 : 0),
  });
  cluster = await startCommandServer({ token: CLUSTER_TOKEN, seedSql: SEED_SQL, contextBootMs: 2000 });
  setEnv({ PIPEBOOK_DEMO_DATA: '0', E2E_UI_CLUSTER_TOKEN: CLUSTER_TOKEN });
  // The config file is in place before either server starts, as after a restart.
  pb = await startPipebook({
    files: {
      'pipebook.config.yaml': `engines:
  - name: spark
    type: livy
    url: ${livy.url}
    healthCheckSeconds: 0
  - name: cluster
    type: databricks-cluster
    host: ${cluster.url}
    clusterId: 0101-120000-pipebook
    auth: { type: pat, tokenEnv: E2E_UI_CLUSTER_TOKEN }
    healthCheckSeconds: 0
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
  await livy?.close();
  await cluster?.close();
});

const FILE = {
  format: 'pipebook',
  version: 1,
  title: 'Spark sessions',
  defaultEngine: 'spark',
  cells: [
    { id: 'c_orders_src', name: 'orders_src', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
    {
      id: 'c_big',
      name: 'big',
      kind: 'sql',
      source: 'SELECT id, customer_id, amount\nFROM orders_src\nWHERE amount > 100',
      config: {},
    },
    {
      id: 'c_per_customer',
      name: 'per_customer',
      kind: 'pyspark',
      source:
        'from pyspark.sql import functions as F\nbig.groupBy("customer_id").agg(F.count("*").alias("n"), F.sum("amount").alias("spent"))',
      config: {},
    },
    {
      id: 'c_report',
      name: 'report',
      kind: 'sql',
      source: 'SELECT customer_id, n, spent\nFROM per_customer\nORDER BY customer_id',
      config: {},
    },
    {
      id: 'c_on_cluster',
      name: 'on_cluster',
      kind: 'sql',
      engine: 'cluster',
      source: 'SELECT count(*) AS n FROM orders',
      config: {},
    },
    { id: 'c_local', name: 'local', kind: 'sql', engine: 'duckdb', source: 'SELECT 42 AS answer', config: {} },
  ],
};

describe('Spark sessions in the browser', () => {
  it('shows the Livy sessions booting then idle, and a lost session as dead with exactly its cells stale', async () => {
    const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', undefined, { file: FILE });
    const { context, page } = await openAs(browser, pb, `/notebooks/${nb.id}`);
    await waitForEditor(page, 'report');
    expect(await page.getByLabel('Notebook engine').inputValue()).toBe('spark');

    // Every phase the toolbar shows for each session kind, in order, as the page renders them.
    await page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      (window as unknown as { __phases: typeof seen }).__phases = seen;
      const record = () => {
        for (const li of document.querySelectorAll('.engine-sessions li[data-kind]')) {
          const kind = li.getAttribute('data-kind')!;
          const phase = li.getAttribute('data-phase')!;
          seen[kind] ??= [];
          if (seen[kind].at(-1) !== phase) seen[kind].push(phase);
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const phases = () => page.evaluate(() => (window as unknown as { __phases: Record<string, string[]> }).__phases);

    await page.getByRole('button', { name: 'Run all', exact: true }).click();
    for (const name of ['orders_src', 'big', 'per_customer', 'report', 'on_cluster', 'local'])
      await statusOf(page, name).and(page.locator('[data-status="done"]')).waitFor({ timeout: 30_000 });
    expect(await statusOf(page, 'report').textContent()).toMatch(/ · spark · /);
    expect(await statusOf(page, 'local').textContent()).toMatch(/ · duckdb · /);

    const sessions = page.getByRole('list', { name: 'Engine sessions' });
    const badge = (kind: string, engine = 'spark') =>
      sessions.locator(`li[data-engine="${engine}"][data-kind="${kind}"]`);
    await badge('sql').and(page.locator('[data-phase="idle"]')).waitFor();
    await badge('pyspark').and(page.locator('[data-phase="idle"]')).waitFor();
    console.log(
      'DBG',
      await sessions.textContent(),
      JSON.stringify(await pb.api('GET', '/api/engines/cluster/sessions')),
    );
    await badge('python', 'cluster').and(page.locator('[data-phase="idle"]')).waitFor();
    // Livy booted each session for 2.5 s, Databricks the context for 2 s: the page saw them starting, then idle.
    const seen = await phases();
    for (const kind of ['sql', 'pyspark', 'python']) {
      expect(seen[kind][0], `${kind}: ${seen[kind]}`).toBe('starting');
      expect(seen[kind].at(-1)).toBe('idle');
    }
    expect(seen.sql, `sql: ${seen.sql}`).toContain('busy');

    // The badge names the real Livy session; Livy then loses it (YARN killed the driver).
    const text = (await badge('pyspark').textContent()) ?? '';
    const id = Number(/pyspark (\d+) ·/.exec(text)?.[1]);
    expect(await badge('pyspark').getAttribute('data-session-id')).toBe(String(id));
    const remote = livy.sessions.get(id);
    expect(remote?.name, text).toMatch(/^pipebook-.*-pyspark-/);
    livy.kill(id);

    await badge('pyspark').and(page.locator('[data-phase="dead"]')).waitFor({ timeout: 10_000 });
    const reason = `Livy session ${id} is dead.`;
    for (const name of ['orders_src', 'big', 'per_customer']) {
      await statusOf(page, name).and(page.locator('[data-status="stale"]')).waitFor({ timeout: 10_000 });
      expect(await statusOf(page, name).textContent()).toContain(reason);
    }
    // The SQL session holds its own copy of the chain and the DuckDB cell never touched Spark.
    expect(await badge('sql').getAttribute('data-phase')).toBe('idle');
    expect(await statusOf(page, 'report').getAttribute('data-status')).toBe('done');
    expect(await statusOf(page, 'local').getAttribute('data-status')).toBe('done');
    await until('dead recorded', async () => (await phases()).pyspark?.at(-1) === 'dead');

    // The cluster's driver restarts: its execution context is gone, and so is the one result it held.
    const ctxId = (await badge('python', 'cluster').getAttribute('data-session-id')) ?? '';
    expect(cluster.contexts.has(ctxId), ctxId).toBe(true);
    expect(await badge('python', 'cluster').textContent()).toBe(`cluster · python …${ctxId.slice(-6)} · idle`);
    cluster.loseContext(ctxId);
    await badge('python', 'cluster').and(page.locator('[data-phase="dead"]')).waitFor({ timeout: 10_000 });
    await statusOf(page, 'on_cluster').and(page.locator('[data-status="stale"]')).waitFor({ timeout: 10_000 });
    expect(await statusOf(page, 'report').getAttribute('data-status')).toBe('done');
    expect(await statusOf(page, 'local').getAttribute('data-status')).toBe('done');
    await context.close();
  });
});
