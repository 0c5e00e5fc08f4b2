// Running, results, visual steps and the pipeline view, with the real kernel behind the collaboration server.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  editorText,
  launchBrowser,
  openAs,
  type Pipebook,
  ROOT,
  startPipebook,
  until,
  waitForEditor,
} from './harness.ts';

let pb: Pipebook;
let browser: Browser;
let notebookId: string;
const tokens: Record<string, string> = {};
const SHOTS = path.join(ROOT, 'docs', 'screenshots');

const cell = (page: Page, name: string) => page.locator(`section[data-cell-name="${name}"]`);

beforeAll(async () => {
  pb = await startPipebook({ tokenMode: true });
  tokens.alice = await pb.token('alice', 'Alice');
  tokens.bob = await pb.token('bob', 'Bob');
  const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', tokens.alice, { template: 'demo' });
  notebookId = nb.id;
  await pb.api('PUT', `/api/notebooks/${nb.id}/members/bob`, tokens.alice, { role: 'editor', name: 'Bob' });
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
});

describe('running a pipeline together', () => {
  it('one person runs a cell; the other sees its status, engine, who ran it, and its rows', async () => {
    const a = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.bob);
    await Promise.all([waitForEditor(a.page, 'top_countries'), waitForEditor(b.page, 'top_countries')]);

    await cell(a.page, 'top_countries').getByRole('button', { name: 'Run with upstream' }).click();
    const status = cell(b.page, 'top_countries').locator('.cell-status');
    await status.and(b.page.locator('[data-status="done"]')).waitFor({ timeout: 60_000 });
    const label = await status.textContent();
    expect(label).toMatch(/done · 10 rows · .* · duckdb · by Alice/);
    // Upstream cells ran in the same run and show as done for Bob too.
    await cell(b.page, 'orders_clean').locator('.cell-status[data-status="done"]').waitFor();

    const grid = cell(b.page, 'top_countries').getByRole('grid');
    await grid
      .getByRole('columnheader', { name: /revenue/ })
      .first()
      .waitFor();
    const headers = await grid.getByRole('columnheader').allTextContents();
    expect(headers.join('|')).toMatch(/country.*VARCHAR/);
    await until('rows arrive', async () => (await grid.locator('.grid-row').count()) === 10);
    expect(await cell(b.page, 'top_countries').locator('.row-count').textContent()).toBe('10 rows');
    const firstRow = await grid.locator('.grid-row').first().getByRole('gridcell').allTextContents();
    expect(firstRow[0]).not.toBe('…');

    // An edit to the cell makes everyone's result stale.
    await cell(a.page, 'top_countries').locator('.cm-content').click();
    await a.page.keyboard.press('Control+End');
    await a.page.keyboard.type(' ');
    await cell(b.page, 'top_countries').locator('.cell-status[data-status="stale"]').waitFor();
    await a.page.keyboard.press('Backspace');
    await cell(b.page, 'top_countries').locator('.cell-status[data-status="done"]').waitFor();

    await a.page.evaluate(() => window.scrollTo(0, 0));
    await a.page.screenshot({ path: path.join(SHOTS, 'notebook.png'), fullPage: false });

    // The chart view plots the same rows.
    await cell(b.page, 'top_countries').getByRole('tab', { name: 'Chart' }).click();
    const chart = cell(b.page, 'top_countries').locator('svg.chart');
    await until('bars drawn', async () => (await chart.locator('rect.bar').count()) === 10);
    await cell(b.page, 'top_countries').scrollIntoViewIfNeeded();
    await cell(b.page, 'top_countries').screenshot({ path: path.join(SHOTS, 'chart.png') });
    await a.context.close();
    await b.context.close();
  });

  it('a visual step edited by one person updates the compiled SQL for the other', async () => {
    const a = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.bob);
    const sqlOf = (p: Page) => cell(p, 'revenue_by_country').getByTestId('compiled-sql');
    await until('compiled SQL shown', async () => /GROUP BY/i.test((await sqlOf(b.page).textContent()) ?? ''));
    expect(await sqlOf(b.page).textContent()).not.toMatch(/max\(/i);

    const form = cell(a.page, 'revenue_by_country').getByRole('form', { name: 'aggregate settings' });
    await form.getByRole('button', { name: 'Add measure' }).click();
    const measure = form.getByRole('group', { name: 'Measure 3' });
    await measure.getByLabel('Function').selectOption('max');
    await measure.getByLabel('Column').fill('amount');
    await measure.getByLabel('Column').press('Tab');
    await until('Bob sees the new measure in the SQL', async () =>
      /max\(.*amount.*\)\s+AS\s+"?max_amount/i.test((await sqlOf(b.page).textContent()) ?? ''),
    );
    await a.context.close();
    await b.context.close();
  });

  it('the pipeline view draws the demo’s edges, and clicking a node focuses its cell', async () => {
    const a = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.alice);
    await waitForEditor(a.page, 'top_countries');
    await a.page.getByRole('button', { name: 'Pipeline', exact: true }).click();
    const dag = a.page.getByRole('group', { name: 'Pipeline' });
    await dag.locator('.dag-node').first().waitFor();
    const ids = await a.page.evaluate(() =>
      [...document.querySelectorAll('section[data-cell-id]')].map((s) => [
        s.getAttribute('data-cell-id'),
        s.getAttribute('data-cell-name'),
      ]),
    );
    const nameOf = new Map(ids as Array<[string, string]>);
    const edges = await dag
      .locator('path.dag-edge')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`));
    const named = edges
      .map((e) =>
        e
          .split('>')
          .map((id) => nameOf.get(id))
          .join(' -> '),
      )
      .sort();
    expect(named).toEqual(
      [
        'orders -> orders_clean',
        'orders_clean -> orders_customers',
        'customers -> orders_customers',
        'orders_customers -> revenue_by_country',
        'revenue_by_country -> top_countries',
        'revenue_by_country -> revenue_report',
      ].sort(),
    );
    // Status colours come from the shared runs map: the first test ran this chain, the second changed
    // revenue_by_country, so it and everything downstream of it are stale while orders_clean is still fresh.
    await dag.locator('.dag-node.status-done[data-cell="demo_orders_clean"]').waitFor();
    await dag.locator('.dag-node.status-stale[data-cell="demo_revenue_by_country"]').waitFor();
    await dag.locator('.dag-node.status-stale[data-cell="demo_top_countries"]').waitFor();
    await a.page.screenshot({ path: path.join(SHOTS, 'pipeline.png') });

    // A reference typed by anyone shows up as a new edge, live.
    await a.page.getByRole('button', { name: 'Cells', exact: true }).click();
    await waitForEditor(a.page, 'top_countries');
    await cell(a.page, 'top_countries').locator('.cm-content').click();
    await a.page.keyboard.press('Control+End');
    await a.page.keyboard.type('\nUNION ALL SELECT country, 0, 0 FROM customers');
    await a.page.getByRole('button', { name: 'Pipeline', exact: true }).click();
    await dag.locator('path.dag-edge[data-from="demo_customers"][data-to="demo_top_countries"]').waitFor();

    await dag.locator('.dag-node[data-cell="demo_orders_clean"]').click();
    await until('the cell has focus', async () =>
      a.page.evaluate(() => !!document.activeElement?.closest('section[data-cell-name="orders_clean"]')),
    );
    await a.context.close();
  });

  it('completes cell and column names, formats in the engine’s dialect, and underlines an engine error at its line', async () => {
    const a = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.alice);
    await waitForEditor(a.page, 'top_countries');
    await a.page.locator('section[data-cell-name="revenue_report"]').click();
    await a.page.getByRole('button', { name: 'Add cell' }).click();
    await waitForEditor(a.page, 'query');
    const q = cell(a.page, 'query');
    await q.locator('.cm-content').click();
    await a.page.keyboard.type('select country from revenue_by_c');
    const option = a.page.locator('.cm-tooltip-autocomplete li', { hasText: 'revenue_by_country' });
    await option.waitFor();
    await a.page.keyboard.press('Enter');
    await until(
      'completion applied',
      async () => (await editorText(a.page, 'query')) === 'select country from revenue_by_country',
    );

    await q.getByRole('button', { name: 'Format' }).click();
    await until(
      'formatted',
      async () => (await editorText(a.page, 'query')) === 'SELECT\n  country\nFROM\n  revenue_by_country',
    );

    // Break line 2 and run: the kernel's error comes back mapped to the cell's own line.
    await q.locator('.cm-line').nth(1).click();
    await a.page.keyboard.press('End');
    await a.page.keyboard.type('_missing');
    await q.getByRole('button', { name: 'Run', exact: true }).click();
    await q.locator('.cell-status[data-status="error"]').waitFor({ timeout: 60_000 });
    await expect(q.locator('.run-error').textContent()).resolves.toMatch(/country_missing[\s\S]*\(line 2\)/);
    const underlined = q.locator('.cm-line').nth(1).locator('.cm-lintRange-error');
    await underlined.waitFor();
    expect(await underlined.textContent()).toContain('country_missing');
    await a.context.close();
  });

  it('a long run shows its progress to everyone, and either person can cancel it for both', async () => {
    const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', tokens.alice, {
      file: {
        format: 'pipebook',
        version: 1,
        title: 'Slow',
        defaultEngine: 'duckdb',
        cells: [
          { id: 'c_big', name: 'big', kind: 'sql', source: 'SELECT range AS i FROM range(5000000)', config: {} },
          {
            id: 'c_slow',
            name: 'slow',
            kind: 'sql',
            // Billions of rows out of a scan of big's stored result: DuckDB reports progress for such scans (not for
            // range() itself), and it runs far longer than the test waits.
            source: 'SELECT sum(hash(a.i * b.j)) AS h FROM big a, (SELECT i AS j FROM big LIMIT 2000) b',
            config: {},
          },
        ],
      },
    });
    await pb.api('PUT', `/api/notebooks/${nb.id}/members/bob`, tokens.alice, { role: 'editor', name: 'Bob' });
    const a = await openAs(browser, pb, `/notebooks/${nb.id}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${nb.id}`, tokens.bob);
    await Promise.all([waitForEditor(a.page, 'slow'), waitForEditor(b.page, 'slow')]);

    await cell(a.page, 'slow').getByRole('button', { name: 'Run with upstream' }).click();
    const bStatus = cell(b.page, 'slow').locator('.cell-status');
    await bStatus.and(b.page.locator('[data-status="running"]')).waitFor({ timeout: 30_000 });
    // The engine's fraction reaches Bob as a determinate bar and a percentage in the status line.
    const bar = b.page.getByRole('progressbar', { name: 'Progress of slow' });
    await until('Bob sees the engine report progress', async () => {
      const value = Number(await bar.getAttribute('value'));
      return value > 0 && value < 1 && /\d+%/.test((await bStatus.textContent()) ?? '');
    });

    // The elapsed time in the status line keeps counting while it runs.
    await until('Bob sees the run time pass a second', async () =>
      /running · .*\d+\.\d s/.test((await bStatus.textContent()) ?? ''),
    );

    // Bob cancels Alice's run; both see it stop, and the kernel is free for the next run at once.
    const t0 = Date.now();
    await cell(b.page, 'slow').getByRole('button', { name: 'Cancel', exact: true }).click();
    await Promise.all(
      [a.page, b.page].map((p) =>
        cell(p, 'slow').locator('.cell-status[data-status="cancelled"]').waitFor({ timeout: 10_000 }),
      ),
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await cell(a.page, 'slow').getByRole('button', { name: 'Run', exact: true }).isEnabled()).toBe(true);
    await a.context.close();
    await b.context.close();
  });
});
