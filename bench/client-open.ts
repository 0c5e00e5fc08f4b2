// Opening a 300-cell notebook in real Chromium: time to first render (every cell on the page, text visible) and to
// editors ready (every cell on screen holds a live CodeMirror bound to its Y.Text; cells far from the viewport keep
// theirs parked), against the collaboration server `npm start` runs.
// Baseline in the same run: opening a 1-cell notebook (the app shell and socket cost), so the ratio shows what the
// 299 extra cells add. Run the build first (`npx vite build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, type Pipebook, ROOT, startPipebook } from '../client/e2e/harness.ts';

const CELLS = 300;
const RUNS = 5;

function notebook(n: number) {
  const cells = [];
  for (let i = 0; i < n; i++) {
    const prev = i === 0 ? 'range(1000)' : `step_${i - 1}`;
    cells.push({
      id: `c_${String(i).padStart(4, '0')}`,
      name: `step_${i}`,
      kind: 'sql',
      source: `SELECT *, ${i} AS k_${i}\nFROM ${prev}\nWHERE ${i} >= 0`,
      config: {},
    });
  }
  return { format: 'pipebook', version: 1, title: `${n} cells`, defaultEngine: 'duckdb', cells };
}

async function measure(pb: Pipebook, id: string, cells: number) {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${pb.url}/notebooks/${id}`);
    // Timestamps are taken in the page, relative to navigation start, on the frame the condition became true.
    const firstRender = await page.waitForFunction(
      (n) => (document.querySelectorAll('section.cell').length === n ? performance.now() : false),
      cells,
      { polling: 'raf', timeout: 60_000 },
    );
    // Ready: the mount queue is done and every cell on screen holds a live editor (cells far from the viewport
    // keep their editors parked as plain text until they come near, see client/src/state/near-viewport.ts).
    const ready = await page.waitForFunction(
      () => {
        if (!document.querySelector('[data-editors-ready="true"]')) return false;
        const onScreen = [...document.querySelectorAll('section.cell')].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.bottom > 0 && r.top < window.innerHeight;
        });
        return onScreen.length > 0 && onScreen.every((el) => el.querySelector('.cm-editor'))
          ? performance.now()
          : false;
      },
      undefined,
      { polling: 'raf', timeout: 120_000 },
    );
    const out = {
      firstRenderMs: (await firstRender.jsonValue()) as number,
      editorsReadyMs: (await ready.jsonValue()) as number,
      liveEditors: await page.locator('.cm-editor').count(),
    };
    await context.close();
    return out;
  } finally {
    await browser.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pb = await startPipebook({ kernel: false });
try {
  const big = await pb.api<{ id: string }>('POST', '/api/notebooks', undefined, { file: notebook(CELLS) });
  const small = await pb.api<{ id: string }>('POST', '/api/notebooks', undefined, { file: notebook(1) });
  await measure(pb, big.id, CELLS); // warm-up: server load of the document, browser caches
  const base: Array<{ firstRenderMs: number; editorsReadyMs: number; liveEditors: number }> = [];
  const runs: Array<{ firstRenderMs: number; editorsReadyMs: number; liveEditors: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(await measure(pb, small.id, 1));
    runs.push(await measure(pb, big.id, CELLS));
  }
  const result = {
    cells: CELLS,
    runs: RUNS,
    firstRenderMs: median(runs.map((r) => r.firstRenderMs)),
    editorsReadyMs: median(runs.map((r) => r.editorsReadyMs)),
    liveEditors: median(runs.map((r) => r.liveEditors)),
    baselineOneCellFirstRenderMs: median(base.map((r) => r.firstRenderMs)),
    baselineOneCellEditorsReadyMs: median(base.map((r) => r.editorsReadyMs)),
    target: { firstRenderMs: 1000 },
    machine: { cores: os.cpus().length, loadAverage1m: os.loadavg()[0], date: new Date().toISOString() },
  };
  const ratio = (a: number, b: number) => (a / b).toFixed(2);
  console.log(
    `open a ${CELLS}-cell notebook in Chromium (median of ${RUNS}, ms since navigation start; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)})`,
  );
  console.table([
    {
      figure: 'first render',
      [`${CELLS} cells`]: result.firstRenderMs.toFixed(0),
      '1 cell (baseline)': result.baselineOneCellFirstRenderMs.toFixed(0),
      ratio: ratio(result.firstRenderMs, result.baselineOneCellFirstRenderMs),
      target: '< 1000',
    },
    {
      figure: `editors ready (every cell on screen; ${result.liveEditors} live near the viewport)`,
      [`${CELLS} cells`]: result.editorsReadyMs.toFixed(0),
      '1 cell (baseline)': result.baselineOneCellEditorsReadyMs.toFixed(0),
      ratio: ratio(result.editorsReadyMs, result.baselineOneCellEditorsReadyMs),
      target: '-',
    },
  ]);
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench', 'results', 'client-open.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await pb.stop();
}
