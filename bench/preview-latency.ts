// Instant preview in real Chromium: DuckDB-WASM start-up, then edit-to-rendered-preview latency for a 5-cell chain
// (source -> 4 SQL cells) over a 100,000-row sample, compared in the same run with running the same chain through
// the kernel (scope "upstream", forced, so all 5 cells are computed and materialised on the embedded DuckDB over a
// 100,000-row table: the same rows the preview sees).
// Edit-to-render is measured in the page from the keydown event's timestamp (the browser received the key) to the
// DOM mutation that shows the new result, and to the next animation frame after it. It includes the live preview's
// debounce (80 ms by default), the compile, the query in the worker and the render.
// Run the build first (`npx vite build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, ROOT, startPipebook } from '../client/e2e/harness.ts';

const SAMPLE_ROWS = 100_000;
const EDITS = 20;
const KERNEL_RUNS = 5;

const cells = [
  { id: 'b_orders', name: 'orders', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
  {
    id: 'b_valid',
    name: 'valid_orders',
    kind: 'sql',
    source:
      "SELECT order_id, customer_id, product_id, order_date, quantity, amount\nFROM orders\nWHERE status <> 'cancelled' AND amount > 0",
    config: {},
  },
  {
    id: 'b_enriched',
    name: 'enriched',
    kind: 'sql',
    source: "SELECT *, amount * 1.2 AS gross, date_trunc('month', order_date) AS month\nFROM valid_orders",
    config: {},
  },
  {
    id: 'b_monthly',
    name: 'customer_months',
    kind: 'sql',
    source:
      'SELECT customer_id, month, sum(gross) AS revenue, count(*) AS orders\nFROM enriched\nGROUP BY customer_id, month',
    config: {},
  },
  {
    id: 'b_top',
    name: 'top_months',
    kind: 'sql',
    source:
      'SELECT month, sum(revenue) AS revenue, count(DISTINCT customer_id) AS customers, sum(orders) AS orders\nFROM customer_months\nGROUP BY month\nORDER BY revenue DESC\nLIMIT 20',
    config: {},
  },
];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs: number[]) => pct(xs, 50);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

process.env.PIPEBOOK_DEMO_ORDERS = String(SAMPLE_ROWS);
const pb = await startPipebook();
const browser = await launchBrowser();
try {
  const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', undefined, {
    file: { format: 'pipebook', version: 1, title: 'Preview bench', defaultEngine: 'duckdb', cells },
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(
    ([rows]) => {
      localStorage.setItem('pipebook.preview.rows', String(rows));
      localStorage.setItem('pipebook.preview.maxBytes', String(64 * 1024 * 1024));
    },
    [SAMPLE_ROWS],
  );
  const page = await context.newPage();
  const panel = page.locator('section[data-cell-name="top_months"] section.preview');

  const openAndPreview = async () => {
    const t0 = Date.now();
    await page.goto(`${pb.url}/notebooks/${nb.id}`);
    await page
      .locator('section[data-cell-name="enriched"] .cell-editor[data-editor="ready"]')
      .waitFor({ timeout: 120_000 });
    const clicked = Date.now();
    await panel.getByRole('button', { name: 'Preview', exact: true }).click();
    await panel
      .and(page.locator('[data-state="ready"]'))
      .waitFor({ timeout: 120_000 })
      .catch(async (e) => {
        throw new Error(`No preview: ${await panel.textContent()}`, { cause: e });
      });
    const ready = Date.now();
    const m = await page.evaluate(() =>
      Object.fromEntries(
        performance
          .getEntriesByType('measure')
          .filter((e) => e.name.startsWith('pipebook-preview'))
          .map((e) => [e.name, e.duration]),
      ),
    );
    return { pageOpenMs: clicked - t0, clickToFirstPreviewMs: ready - clicked, measures: m as Record<string, number> };
  };

  // First start in a fresh profile: bundles come over the network and go into Cache Storage; the sample is fetched.
  const cold = await openAndPreview();
  // After a reload: bundles from Cache Storage, sample from IndexedDB.
  const warm = await openAndPreview();
  const rowCount = Number(await panel.locator('.preview-rows').getAttribute('data-row-count'));
  const summary = await panel.locator('.preview-summary').textContent();
  if (!summary?.includes('100,000') || rowCount !== 20) throw new Error(`Unexpected preview: ${summary}`);

  await page.evaluate(() => {
    const w = window as unknown as { __key: number; __dom: number[]; __frame: number[]; __q: number[] };
    w.__dom = [];
    w.__frame = [];
    document.addEventListener('keydown', (e) => (w.__key = e.timeStamp), true);
    const el = document.querySelector('section[data-cell-name="top_months"] section.preview')!;
    new MutationObserver(() => {
      const now = performance.now();
      w.__dom.push(now - w.__key);
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => w.__frame.push(performance.now() - w.__key);
        ch.port2.postMessage(0);
      });
    }).observe(el, { attributes: true, attributeFilter: ['data-gen'] });
  });
  // Edits to a middle cell of the chain: "amount * 1.2" becomes "amount * 1.25" and back, one key at a time.
  await page.locator('section[data-cell-name="enriched"] .cm-content').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  for (let i = 0; i < 'AS month'.length + ", date_trunc('month', order_date) ".length; i++)
    await page.keyboard.press('ArrowLeft');
  // The caret is now right after "1.2".
  for (let i = 0; i < EDITS; i++) {
    const before = await panel.getAttribute('data-gen');
    await page.keyboard.press(i % 2 === 0 ? '5' : 'Backspace');
    await page.waitForFunction(
      ([sel, g]) => document.querySelector(sel)?.getAttribute('data-gen') !== g,
      ['section[data-cell-name="top_months"] section.preview', before] as const,
      { timeout: 30_000 },
    );
    await pause(200);
  }
  const text = await page.locator('section[data-cell-name="enriched"] .cm-content').textContent();
  if (!text?.includes('amount * 1.2 AS gross')) throw new Error(`Edits went astray: ${text}`);
  const { dom, frame } = await page.evaluate(() => {
    const w = window as unknown as { __dom: number[]; __frame: number[] };
    return { dom: w.__dom, frame: w.__frame };
  });
  const lastQueryMs = Number(
    (await panel.locator('.preview-summary').textContent())?.match(/(\d+) ms in the browser/)?.[1],
  );

  // The same chain through the kernel: all 5 cells computed (force) and materialised, over the 100k-row table.
  const kernel: number[] = [];
  for (let i = 0; i < KERNEL_RUNS; i++) {
    const t0 = performance.now();
    const res = await fetch(`${pb.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ notebookId: nb.id, cellId: 'b_top', scope: 'upstream', force: true }),
    });
    const body = await res.text();
    if (!body.includes('run_finished')) throw new Error(`Kernel run did not finish: ${body.slice(-500)}`);
    if (!body.includes('"status":"done"')) throw new Error(`Kernel run failed: ${body.slice(-500)}`);
    kernel.push(performance.now() - t0);
  }

  const preview = {
    edits: dom.length,
    domP50: median(dom),
    domP95: pct(dom, 95),
    domMax: Math.max(...dom),
    frameP50: median(frame),
    frameP95: pct(frame, 95),
    lastQueryMs,
  };
  const result = {
    sampleRows: SAMPLE_ROWS,
    chainCells: cells.length,
    startup: {
      coldEngineStartMs: cold.measures['pipebook-preview-engine-start'],
      warmEngineStartMs: warm.measures['pipebook-preview-engine-start'],
      coldClickToFirstPreviewMs: cold.clickToFirstPreviewMs,
      warmClickToFirstPreviewMs: warm.clickToFirstPreviewMs,
      coldSampleFetchMs: cold.measures['pipebook-preview-sample-fetch:orders'],
      warmSampleFetchMs: warm.measures['pipebook-preview-sample-fetch:orders'],
      sampleLoadMs: warm.measures['pipebook-preview-sample-load:orders'],
    },
    preview,
    kernel: { runs: kernel.length, medianMs: median(kernel), minMs: Math.min(...kernel), maxMs: Math.max(...kernel) },
    kernelOverPreviewRatio: median(kernel) / preview.frameP50,
    target: { editToRenderMs: 150 },
    machine: { cores: os.cpus().length, loadAverage1m: os.loadavg()[0], date: new Date().toISOString() },
  };
  console.log(
    `instant preview, ${cells.length}-cell chain over ${SAMPLE_ROWS.toLocaleString('en-US')} sampled rows; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.table({
    'engine start, first visit (ms)': result.startup.coldEngineStartMs.toFixed(0),
    'engine start, after reload (ms)': result.startup.warmEngineStartMs.toFixed(0),
    'click to first preview, first visit (ms)': result.startup.coldClickToFirstPreviewMs.toFixed(0),
    'click to first preview, after reload (ms)': result.startup.warmClickToFirstPreviewMs.toFixed(0),
    'sample fetch, network / IndexedDB (ms)': `${result.startup.coldSampleFetchMs.toFixed(0)} / ${result.startup.warmSampleFetchMs.toFixed(0)}`,
    'sample load into DuckDB-WASM (ms)': result.startup.sampleLoadMs.toFixed(0),
  });
  console.table([
    {
      path: `preview: edit -> rendered (p50/p95, ${preview.edits} edits)`,
      ms: `${preview.domP50.toFixed(0)} / ${preview.domP95.toFixed(0)}`,
    },
    {
      path: 'preview: edit -> next frame (p50/p95)',
      ms: `${preview.frameP50.toFixed(0)} / ${preview.frameP95.toFixed(0)}`,
    },
    { path: 'preview: query in the worker (last edit)', ms: String(lastQueryMs) },
    { path: `kernel: run chain, 5 cells (median of ${kernel.length})`, ms: result.kernel.medianMs.toFixed(0) },
    { path: 'ratio kernel / preview (p50)', ms: result.kernelOverPreviewRatio.toFixed(1) },
  ]);
  const out = path.join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'preview-latency.json'), `${JSON.stringify(result, null, 2)}\n`);
  await context.close();
} finally {
  await browser.close();
  await pb.stop();
}
