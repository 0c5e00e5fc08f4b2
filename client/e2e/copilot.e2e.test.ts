// The Copilot in real Chromium against the real collaboration server and kernel, with the OpenAI-compatible test
// server as the model: ask for a cell, watch the failed first attempt get corrected and verified, insert it after the
// focused cell, see who asked from another person's browser, and run it.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequestBody } from '../../kernel/test/servers/openai/server.ts';
import { type OpenAiTestServer, startOpenAiTestServer } from '../../kernel/test/servers/openai/server.ts';
import { editorText, launchBrowser, openAs, type Pipebook, startPipebook, until, waitForEditor } from './harness.ts';

let pb: Pipebook;
let browser: Browser;
let model: OpenAiTestServer;
let notebookId: string;
const tokens: Record<string, string> = {};
const savedEnv = { ...process.env };

const cell = (page: Page, name: string) => page.locator(`section[data-cell-name="${name}"]`);

function reply(sql: string) {
  return {
    type: 'content' as const,
    chunkSize: 16,
    content: {
      cells: [{ name: 'orders_per_status', kind: 'sql', description: 'Orders per status', sql, config: null }],
      note: '',
    },
  };
}

beforeAll(async () => {
  model = await startOpenAiTestServer({ apiKey: 'e2e-key' });
  // The kernel child inherits these: the model endpoint is configured server-side only.
  process.env.OPENAI_BASE_URL = model.baseURL;
  process.env.OPENAI_API_KEY = 'e2e-key';
  process.env.PIPEBOOK_COPILOT_MODEL = 'test-model';
  process.env.PIPEBOOK_DEMO_ORDERS = '20000';
  pb = await startPipebook({ tokenMode: true });
  tokens.alice = await pb.token('alice', 'Alice');
  tokens.bob = await pb.token('bob', 'Bob');
  const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', tokens.alice, { template: 'demo' });
  notebookId = nb.id;
  await pb.api('PUT', `/api/notebooks/${nb.id}/members/bob`, tokens.alice, { role: 'editor', name: 'Bob' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
  await model?.close();
  process.env = savedEnv;
});

describe('Copilot in the browser', () => {
  it('asks for a cell, sees it verified after a retry, inserts it after the focused cell, and runs it', async () => {
    const a = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.alice);
    await waitForEditor(a.page, 'orders_clean');
    // Focus orders_clean: the new cell goes right after it.
    await cell(a.page, 'orders_clean').locator('.cm-content').click();
    await a.page.getByRole('button', { name: 'Copilot', exact: true }).click();
    const panel = a.page.getByRole('region', { name: 'Copilot' }).last();
    await panel.getByText('Model test-model').waitFor();
    await panel.getByText('inserted after orders_clean').waitFor();

    model.script(
      reply('SELECT stat, count(*) AS orders FROM orders GROUP BY stat'),
      reply('SELECT status, count(*) AS orders FROM orders GROUP BY status ORDER BY status'),
    );
    await panel.getByLabel('Ask the Copilot').fill('Number of orders per order status');
    await panel.getByRole('button', { name: 'Generate' }).click();
    await panel.getByText('Verified', { exact: true }).waitFor({ timeout: 30_000 });

    // The first attempt failed in the engine, the error went back to the model, the second passed every check.
    const checks = panel.getByRole('list', { name: 'Checks' }).getByRole('listitem');
    const states = await checks.evaluateAll((items) =>
      items.map((li) => `${li.getAttribute('data-ok')} ${li.textContent}`),
    );
    expect(states.some((s) => s.startsWith('false') && /attempt 1: engine validates/.test(s) && /stat/.test(s))).toBe(
      true,
    );
    expect(states.filter((s) => s.startsWith('true') && /attempt 2/.test(s)).length).toBe(4);
    expect(model.requests).toHaveLength(2);
    const retry = model.requests[1].body as ChatRequestBody;
    expect(String(retry.messages.at(-1)?.content)).toMatch(/orders_per_status.*engine/s);
    // The key stayed on the server: the browser only ever saw the model name and endpoint origin.
    const status = await a.page.evaluate(async () => (await fetch('/api/copilot/status')).text());
    expect(status).not.toContain('e2e-key');

    await panel.getByRole('button', { name: 'Insert cells' }).click();
    await waitForEditor(a.page, 'orders_per_status');
    const names = await a.page
      .locator('section[data-cell-name]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-cell-name')));
    expect(names[names.indexOf('orders_clean') + 1]).toBe('orders_per_status');

    // A collaborator sees the new cell and who asked for it.
    const b = await openAs(browser, pb, `/notebooks/${notebookId}`, tokens.bob);
    await waitForEditor(b.page, 'orders_per_status');
    expect(await editorText(b.page, 'orders_per_status')).toMatch(
      /^-- Orders per status\n-- Copilot, asked by Alice\nSELECT status/,
    );

    const run = cell(a.page, 'orders_per_status').getByRole('button', { name: 'Run', exact: true });
    await run.click();
    await cell(a.page, 'orders_per_status')
      .locator('.cell-status[data-status="done"]')
      .waitFor({ timeout: 30_000 })
      .catch(async (e) => {
        const notices = await a.page.locator('[role=alert]').allTextContents();
        const st = await cell(a.page, 'orders_per_status').locator('.cell-status').getAttribute('data-status');
        throw new Error(`${(e as Error).message}\nstatus ${st}; alerts: ${JSON.stringify(notices)}`);
      });
    await cell(a.page, 'orders_per_status').locator('.row-count', { hasText: '4 rows' }).waitFor({ timeout: 15_000 });
    await cell(b.page, 'orders_per_status').locator('.cell-status[data-status="done"]').waitFor({ timeout: 15_000 });

    // One undo step removes the insert.
    await panel.getByRole('button', { name: 'Undo' }).click();
    await cell(b.page, 'orders_per_status').waitFor({ state: 'detached', timeout: 15_000 });
    await a.context.close();
    await b.context.close();
  });

  it('fixes a failed cell from the diff it shows, and the fixed cell runs', async () => {
    const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', tokens.alice, {
      file: {
        format: 'pipebook',
        version: 1,
        title: 'Fix me',
        defaultEngine: 'duckdb',
        cells: [
          {
            id: 'c_broken',
            name: 'by_status',
            kind: 'sql',
            source: 'SELECT stauts, count(*) AS n\nFROM orders\nGROUP BY stauts',
            config: {},
          },
        ],
      },
    });
    const a = await openAs(browser, pb, `/notebooks/${nb.id}`, tokens.alice);
    await waitForEditor(a.page, 'by_status');
    await cell(a.page, 'by_status').getByRole('button', { name: 'Run', exact: true }).click();
    await cell(a.page, 'by_status').locator('.cell-status[data-status="error"]').waitFor({ timeout: 30_000 });

    await cell(a.page, 'by_status').locator('.cm-content').click();
    await a.page.getByRole('button', { name: 'Copilot', exact: true }).click();
    const panel = a.page.getByRole('region', { name: 'Copilot' }).last();
    const before = model.requests.length;
    model.script({
      type: 'content',
      content: {
        cells: [
          {
            name: 'by_status',
            kind: 'sql',
            description: 'Orders per status',
            sql: 'SELECT status, count(*) AS n\nFROM orders\nGROUP BY status',
            config: null,
          },
        ],
        note: 'The column is called status.',
      },
    });
    await panel.getByRole('button', { name: 'Fix focused cell' }).click();
    const diff = panel.getByRole('figure', { name: 'Proposed change' });
    await diff.waitFor({ timeout: 30_000 });
    expect(await diff.textContent()).toContain('-SELECT stauts, count(*) AS n');
    expect(await diff.textContent()).toContain('+SELECT status, count(*) AS n');
    // The model was given the engine's error from the failed run.
    expect(String(model.requests[before].body.messages[1].content)).toMatch(/Error: .*stauts/s);

    await panel.getByRole('button', { name: 'Apply fix' }).click();
    await until('the fixed SQL in the editor', async () =>
      (await editorText(a.page, 'by_status')).startsWith('SELECT status, count(*) AS n'),
    );
    await cell(a.page, 'by_status').getByRole('button', { name: 'Run', exact: true }).click();
    await cell(a.page, 'by_status').locator('.cell-status[data-status="done"]').waitFor({ timeout: 30_000 });
    await a.context.close();
  });
});
