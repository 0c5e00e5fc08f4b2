// Instant preview in the browser (DuckDB-WASM on source samples) against the real collaboration server and kernel:
// a three-cell chain previewed, live re-previews on edit with no kernel run, offline reload from the caches, and the
// message for a construct the browser's DuckDB does not have.
import { readRuns } from '@pipebook/shared';
import { type Table, tableFromIPC } from 'apache-arrow';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { launchBrowser, openAs, type Pipebook, startPipebook, until, waitForEditor } from './harness.ts';

let pb: Pipebook;
let browser: Browser;
let notebookId: string;
let sample: Table;
let context: BrowserContext;
let page: Page;
/** Every request the page made to the kernel's run API. */
const runRequests: string[] = [];

const cells = [
  { id: 'c_orders', name: 'orders', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
  {
    id: 'c_big',
    name: 'big_orders',
    kind: 'sql',
    source: 'SELECT order_id, customer_id, amount\nFROM orders\nWHERE amount > 100',
    config: {},
  },
  {
    id: 'c_per',
    name: 'per_customer',
    kind: 'sql',
    source:
      'SELECT customer_id, count(*) AS n, sum(amount) AS total\nFROM big_orders\nGROUP BY customer_id\nORDER BY total DESC, customer_id\nLIMIT 5',
    config: {},
  },
  {
    id: 'c_json',
    name: 'json_cell',
    kind: 'sql',
    source: `SELECT customer_id, json_extract('{"a": 1}', '$.a') AS a\nFROM per_customer`,
    config: {},
  },
];

/** What per_customer should hold, computed here from the sample itself (the Arrow the kernel served). */
function expected(minAmount: number): { rows: string[][]; groups: number } {
  const ids = sample.getChild('customer_id')!.toArray();
  const amounts = sample.getChild('amount')!.toArray() as Float64Array;
  const per = new Map<number, { n: number; total: number }>();
  for (let i = 0; i < sample.numRows; i++) {
    if (!(amounts[i] > minAmount)) continue;
    const id = Number(ids[i]);
    const g = per.get(id) ?? { n: 0, total: 0 };
    g.n++;
    g.total += amounts[i];
    per.set(id, g);
  }
  const sorted = [...per.entries()].sort((a, b) => b[1].total - a[1].total || a[0] - b[0]).slice(0, 5);
  return {
    rows: sorted.map(([id, g]) => [String(id), String(g.n), g.total.toFixed(2)]),
    groups: Math.min(5, per.size),
  };
}

const panel = (name: string) => page.locator(`section[data-cell-name="${name}"] section.preview`);

async function previewRows(name: string): Promise<string[][]> {
  return panel(name)
    .locator('table.preview-grid tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')].map((td, i) => (i === 2 ? Number(td.textContent).toFixed(2) : td.textContent!)),
      ),
    );
}

const gen = async (name: string) => Number(await panel(name).getAttribute('data-gen'));

beforeAll(async () => {
  // A small demo warehouse keeps the kernel's first start quick.
  process.env.PIPEBOOK_DEMO_ORDERS = '20000';
  pb = await startPipebook();
  const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', undefined, {
    file: { format: 'pipebook', version: 1, title: 'Preview', defaultEngine: 'duckdb', cells },
  });
  notebookId = nb.id;
  const res = await fetch(`${pb.url}/api/samples/${notebookId}/c_orders`);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pipebook-sample-rows')).toBe('10000');
  sample = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
  browser = await launchBrowser();
  ({ context, page } = await openAs(browser, pb, `/notebooks/${notebookId}`));
  context.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/runs')) runRequests.push(`${r.method()} ${r.url()}`);
  });
  await waitForEditor(page, 'per_customer');
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
});

describe('instant preview', () => {
  it('previews a three-cell chain on a sample of its source, labelled as such', async () => {
    await panel('per_customer').getByRole('button', { name: 'Preview', exact: true }).click();
    await panel('per_customer').and(page.locator('[data-state="ready"]')).waitFor({ timeout: 60_000 });
    const want = expected(100);
    expect(await previewRows('per_customer')).toEqual(want.rows);
    expect(await panel('per_customer').locator('.preview-rows').getAttribute('data-row-count')).toBe(
      String(want.groups),
    );
    const summary = await panel('per_customer').locator('.preview-summary').textContent();
    expect(summary).toContain('the first 10,000 rows of orders');
    expect(await panel('per_customer').locator('.preview-badge').textContent()).toMatch(/Preview of a sample/);
    const headers = await panel('per_customer').locator('thead th').allTextContents();
    expect(headers).toEqual(['customer_id BIGINT', 'n BIGINT', 'total DECIMAL(38,2)']);
    expect(await panel('per_customer').locator('.preview-last-run').textContent()).toBe('Last real run: none yet.');
  });

  it('an edit upstream changes the preview as it is typed, and the kernel is never asked to run', async () => {
    const before = await gen('per_customer');
    const editor = page.locator('section[data-cell-name="big_orders"] .cm-content');
    await editor.click();
    await page.keyboard.press('Control+End');
    // "amount > 100" becomes "amount > 1000"
    await page.keyboard.type('0');
    const want = expected(1000);
    await until('the preview shows the edited chain', async () => {
      if ((await gen('per_customer')) <= before) return false;
      return JSON.stringify(await previewRows('per_customer')) === JSON.stringify(want.rows);
    });
    expect(runRequests).toEqual([]);
    // No cell has any run in the shared document, which is where every run of the kernel is recorded.
    const statuses = await page
      .locator('.cell-status')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['idle']));
    // The same, read by a separate client of the collaboration server: the kernel recorded no run at all.
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`${pb.url.replace('http', 'ws')}/collab`, notebookId, doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    });
    try {
      await new Promise<void>((resolve) => provider.once('sync', () => resolve()));
      expect(readRuns(doc)).toEqual({});
      expect(doc.getMap('cells').size).toBe(cells.length);
    } finally {
      provider.destroy();
      doc.destroy();
    }
  });

  it('names a function the browser engine lacks, while the cell still runs on its engine', async () => {
    await panel('json_cell').getByRole('button', { name: 'Preview', exact: true }).click();
    await panel('json_cell').and(page.locator('[data-state="problem"]')).waitFor({ timeout: 30_000 });
    const msg = await panel('json_cell').locator('.preview-problem').textContent();
    expect(msg).toContain('json_extract()');
    expect(msg).toContain('json extension');
    expect(msg).toContain('still runs on its engine (duckdb)');
    // And it does: a real run on the kernel succeeds.
    await page.locator('section[data-cell-name="json_cell"]').getByRole('button', { name: 'Run', exact: true }).click();
    await page
      .locator('section[data-cell-name="json_cell"] .cell-status[data-status="done"]')
      .waitFor({ timeout: 60_000 });
    expect(runRequests.length).toBeGreaterThan(0);
  });

  it('compares the preview’s columns and types with the engine’s last result', async () => {
    await page
      .locator('section[data-cell-name="per_customer"]')
      .getByRole('button', { name: 'Run', exact: true })
      .click();
    await page
      .locator('section[data-cell-name="per_customer"] .cell-status[data-status="done"]')
      .waitFor({ timeout: 60_000 });
    await panel('per_customer').locator('.preview-compare[data-agree="yes"]').waitFor();
    expect(await panel('per_customer').locator('.preview-compare').textContent()).toBe(
      'Columns and types agree with the last real run.',
    );
    expect(await panel('per_customer').locator('.preview-last-run').textContent()).toBe(
      'Last real run (duckdb): 5 rows',
    );
    // A change the engine has not run yet shows as a difference.
    await page.locator('section[data-cell-name="per_customer"] .cm-content').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('End');
    await page.keyboard.type(', 1.5::DOUBLE AS extra');
    // (While typing, the preview may briefly show intermediate columns such as "1.5".)
    await until('the preview shows the new column as a difference', async () => {
      const items = await panel('per_customer').locator('.preview-compare li').allTextContents();
      return JSON.stringify(items) === JSON.stringify(['extra (DOUBLE) is in the preview but not in the last run']);
    });
    for (let i = 0; i < ', 1.5::DOUBLE AS extra'.length; i++) await page.keyboard.press('Backspace');
    await panel('per_customer').locator('.preview-compare[data-agree="yes"]').waitFor();
  });

  it('a seeded random sample of the source can be chosen instead of its first rows', async () => {
    const summary = panel('per_customer').locator('.preview-summary');
    await panel('per_customer').getByLabel('Sampling of sources').selectOption('random');
    await until('the preview uses a random sample', async () =>
      (await summary.textContent())?.includes('a random sample of 10,000 rows of orders'),
    );
    await panel('per_customer').getByLabel('Sampling of sources').selectOption('first');
    await until('the preview is back on the first rows', async () =>
      (await summary.textContent())?.includes('the first 10,000 rows of orders'),
    );
    expect(await previewRows('per_customer')).toEqual(expected(1000).rows);
  });

  it('after a reload offline, the preview still works from the cached engine and samples', async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      for (;;) {
        // The app shell (service worker) and the preview engine's bundles (kept in the background) are cached.
        const bundles = await (await caches.open('pipebook-preview-bundles-v1')).keys();
        if (navigator.serviceWorker.controller && (await caches.match('/index.html')) && bundles.length >= 2) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    await context.setOffline(true);
    await page.reload();
    await waitForEditor(page, 'per_customer');
    await page.locator('output.connection[data-state="offline"]').waitFor();
    await panel('per_customer').getByRole('button', { name: 'Preview', exact: true }).click();
    await panel('per_customer').and(page.locator('[data-state="ready"]')).waitFor({ timeout: 60_000 });
    expect(await previewRows('per_customer')).toEqual(expected(1000).rows);
    expect(await panel('per_customer').locator('.preview-summary').textContent()).toContain(
      'the first 10,000 rows of orders (kept in this browser)',
    );
    await context.setOffline(false);
  });
});
