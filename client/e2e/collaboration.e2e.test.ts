// Two people (separate browser contexts, token mode) edit one notebook through the real collaboration server.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  editorOf,
  editorText,
  launchBrowser,
  openAs,
  type Pipebook,
  startPipebook,
  until,
  waitForEditor,
} from './harness.ts';

let pb: Pipebook;
let browser: Browser;
const tokens: Record<string, string> = {};

function notebookFile(title: string) {
  return {
    format: 'pipebook',
    version: 1,
    title,
    defaultEngine: 'duckdb',
    cells: [
      { id: 'c_orders', name: 'orders_src', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
      {
        id: 'c_big',
        name: 'big_orders',
        kind: 'sql',
        source: 'SELECT * FROM orders_src\nWHERE amount > 100',
        config: {},
      },
      { id: 'c_notes', name: 'notes', kind: 'markdown', source: '# Notes', config: {} },
    ],
  };
}

async function newSharedNotebook(title: string): Promise<string> {
  const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', tokens.alice, { file: notebookFile(title) });
  await pb.api('PUT', `/api/notebooks/${nb.id}/members/bob`, tokens.alice, { role: 'editor', name: 'Bob' });
  await pb.api('PUT', `/api/notebooks/${nb.id}/members/carol`, tokens.alice, { role: 'viewer', name: 'Carol' });
  return nb.id;
}

async function clickEnd(page: Page, cell: string) {
  const ed = editorOf(page, cell);
  await ed.click();
  await page.keyboard.press('Control+End');
}

/** Updates held in the page's y-indexeddb copy of a notebook. */
function localUpdateCount(page: Page, notebookId: string): Promise<number> {
  return page.evaluate(
    (name) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('updates', 'readonly').objectStore('updates').count();
          req.onsuccess = () => {
            resolve(req.result);
            db.close();
          };
          req.onerror = () => reject(req.error);
        };
      }),
    `pipebook:${notebookId}`,
  );
}

beforeAll(async () => {
  // Editing needs only the collaboration server; runs are covered in runs.e2e.test.ts.
  pb = await startPipebook({ tokenMode: true, kernel: false });
  tokens.alice = await pb.token('alice', 'Alice');
  tokens.bob = await pb.token('bob', 'Bob');
  tokens.carol = await pb.token('carol', 'Carol');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
});

describe('collaboration in the browser', () => {
  it('two people typing in the same cell at once converge, and each sees the other’s cursor and name', async () => {
    const id = await newSharedNotebook('Typing together');
    const a = await openAs(browser, pb, `/notebooks/${id}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${id}`, tokens.bob);
    await Promise.all([waitForEditor(a.page, 'big_orders'), waitForEditor(b.page, 'big_orders')]);
    await clickEnd(a.page, 'big_orders');
    await b.page.locator('section[data-cell-name="big_orders"] .cm-line').first().click();
    await b.page.keyboard.press('Home');
    await Promise.all([
      a.page.keyboard.type(' AND status = 1', { delay: 5 }),
      b.page.keyboard.type('-- by bob\n', { delay: 5 }),
    ]);
    const expected = '-- by bob\nSELECT * FROM orders_src\nWHERE amount > 100 AND status = 1';
    await until(
      'both editors converge',
      async () =>
        (await editorText(a.page, 'big_orders')) === expected && (await editorText(b.page, 'big_orders')) === expected,
    );

    // Remote cursors carry the other person's name; the presence bar says who is in which cell.
    await a.page.locator('section[data-cell-name="big_orders"] .cm-ySelectionInfo', { hasText: 'Bob' }).waitFor();
    await b.page.locator('section[data-cell-name="big_orders"] .cm-ySelectionInfo', { hasText: 'Alice' }).waitFor();
    await a.page.getByRole('button', { name: /Bob, in big_orders/ }).waitFor();
    await b.page.getByRole('button', { name: /Alice, in big_orders/ }).waitFor();
    await a.context.close();
    await b.context.close();
  });

  it('edits made offline merge when the connection comes back', async () => {
    const id = await newSharedNotebook('Offline');
    const a = await openAs(browser, pb, `/notebooks/${id}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${id}`, tokens.bob);
    await Promise.all([waitForEditor(a.page, 'big_orders'), waitForEditor(b.page, 'notes')]);
    await b.page.locator('output.connection[data-state="online"]').waitFor();

    await b.context.setOffline(true);
    await b.page.locator('output.connection[data-state="offline"]').waitFor();
    await clickEnd(b.page, 'notes');
    await b.page.keyboard.type('\nwritten offline');
    await clickEnd(a.page, 'big_orders');
    await a.page.keyboard.type('\nLIMIT 5');
    // While Bob is away, Alice does not get his text.
    expect(await editorText(a.page, 'notes')).toBe('# Notes');

    await b.context.setOffline(false);
    await b.page.locator('output.connection[data-state="online"]').waitFor();
    await until(
      'offline edit reaches Alice',
      async () => (await editorText(a.page, 'notes')) === '# Notes\nwritten offline',
    );
    await until('Alice’s edit reaches Bob', async () => (await editorText(b.page, 'big_orders')).endsWith('LIMIT 5'));

    // A reload while offline loses nothing: the service worker serves the app, the local copy the notebook, and
    // the edit reaches the others once the network is back.
    await b.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      for (;;) {
        const shell = await caches.match('/index.html');
        if (shell) return;
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      }
    });
    await b.context.setOffline(true);
    await b.page.locator('output.connection[data-state="offline"]').waitFor();
    const stored = await localUpdateCount(b.page, id);
    await clickEnd(b.page, 'notes');
    await b.page.keyboard.type(' and kept');
    // Each keystroke is one update in the local copy; wait until all of them are written before reloading.
    await until('the offline edit is in IndexedDB', async () => (await localUpdateCount(b.page, id)) >= stored + 9);
    await b.page.reload();
    await waitForEditor(b.page, 'notes');
    expect(await editorText(b.page, 'notes')).toBe('# Notes\nwritten offline and kept');
    expect(await editorText(a.page, 'notes')).toBe('# Notes\nwritten offline');
    await b.context.setOffline(false);
    await until(
      'the edit kept across the reload reaches Alice',
      async () => (await editorText(a.page, 'notes')) === '# Notes\nwritten offline and kept',
    );
    await a.context.close();
    await b.context.close();
  });

  it('a viewer sees the notebook live but cannot edit it', async () => {
    const id = await newSharedNotebook('Viewer');
    const a = await openAs(browser, pb, `/notebooks/${id}`, tokens.alice);
    const c = await openAs(browser, pb, `/notebooks/${id}`, tokens.carol);
    await Promise.all([waitForEditor(a.page, 'big_orders'), waitForEditor(c.page, 'big_orders')]);
    await c.page.getByText('View only').waitFor();
    await expect(editorOf(c.page, 'big_orders').getAttribute('contenteditable')).resolves.toBe('false');
    await expect(c.page.getByRole('button', { name: 'Add cell' }).isDisabled()).resolves.toBe(true);
    await expect(
      c.page
        .locator('section[data-cell-name="big_orders"]')
        .getByRole('button', { name: 'Run', exact: true })
        .isDisabled(),
    ).resolves.toBe(true);
    await editorOf(c.page, 'big_orders').click();
    await c.page.keyboard.type('DROP TABLE x');
    // Alice's edits still reach the viewer.
    await clickEnd(a.page, 'big_orders');
    await a.page.keyboard.type(' -- checked');
    await until('viewer sees the owner’s edit', async () =>
      (await editorText(c.page, 'big_orders')).endsWith('-- checked'),
    );
    expect(await editorText(c.page, 'big_orders')).not.toContain('DROP');
    expect(await editorText(a.page, 'big_orders')).not.toContain('DROP');
    await a.context.close();
    await c.context.close();
  });

  it('adds, renames, duplicates, moves and deletes cells for everyone; undo takes back only your own changes', async () => {
    const id = await newSharedNotebook('Structure');
    const a = await openAs(browser, pb, `/notebooks/${id}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${id}`, tokens.bob);
    await Promise.all([waitForEditor(a.page, 'big_orders'), waitForEditor(b.page, 'big_orders')]);
    const namesOn = (page: Page) =>
      page.evaluate(() =>
        [...document.querySelectorAll('section[data-cell-name]')].map((s) => s.getAttribute('data-cell-name')),
      );

    // Rename rewrites the references in other cells, for both people.
    const src = a.page.locator('section[data-cell-name="orders_src"]');
    await src.getByRole('button', { name: 'Rename orders_src' }).click();
    await src.getByLabel('Cell name').fill('orders_raw');
    await src.getByLabel('Cell name').press('Enter');
    await until('Bob sees the rewritten reference', async () =>
      (await editorText(b.page, 'big_orders')).startsWith('SELECT * FROM orders_raw'),
    );

    // Add after the focused cell, then move it up with the keyboard.
    await editorOf(a.page, 'big_orders').click();
    await a.page.getByLabel('Kind of new cell').selectOption('sql');
    await a.page.getByRole('button', { name: 'Add cell' }).click();
    await until(
      'the new cell follows big_orders for Bob',
      async () => (await namesOn(b.page)).join(',') === 'orders_raw,big_orders,query,notes',
    );
    await waitForEditor(a.page, 'query');
    await editorOf(a.page, 'query').click();
    await a.page.keyboard.type('SELECT 1');
    await a.page.keyboard.press('Alt+ArrowUp');
    await until('moved for Bob', async () => (await namesOn(b.page)).join(',') === 'orders_raw,query,big_orders,notes');
    expect(await editorText(b.page, 'query')).toBe('SELECT 1');

    // Duplicate and delete from Bob's side.
    await b.page.getByRole('button', { name: 'Duplicate notes' }).click();
    await until('copy shown to Alice', async () => (await namesOn(a.page)).includes('notes_copy'));
    b.page.once('dialog', (d) => void d.accept());
    await b.page.getByRole('button', { name: 'Delete notes_copy' }).click();
    await until('copy gone for Alice', async () => !(await namesOn(a.page)).includes('notes_copy'));

    // Bob types after Alice's changes; Alice's undo reverts her move, then her cell, never Bob's text.
    await editorOf(b.page, 'notes').click();
    await b.page.keyboard.press('Control+End');
    await b.page.keyboard.type(' (bob)');
    await until('Bob’s text reaches Alice', async () => (await editorText(a.page, 'notes')) === '# Notes (bob)');
    const undo = a.page.getByRole('button', { name: 'Undo' });
    await undo.click();
    await until('move undone', async () => (await namesOn(b.page)).join(',') === 'orders_raw,big_orders,query,notes');
    await undo.click();
    await undo.click();
    await until('Alice’s cell undone for Bob', async () => !(await namesOn(b.page)).includes('query'));
    expect(await editorText(b.page, 'notes')).toBe('# Notes (bob)');
    expect(await editorText(a.page, 'notes')).toBe('# Notes (bob)');
    await a.context.close();
    await b.context.close();
  });

  it('a long notebook keeps live editors only near the viewport; far cells follow remote edits and wake on scroll', async () => {
    const cells = Array.from({ length: 60 }, (_, i) => ({
      id: `c_${i}`,
      name: `step_${i}`,
      kind: 'sql',
      source: `SELECT ${i} AS k`,
      config: {},
    }));
    const nb = await pb.api<{ id: string }>('POST', '/api/notebooks', tokens.alice, {
      file: { format: 'pipebook', version: 1, title: 'Long', defaultEngine: 'duckdb', cells },
    });
    await pb.api('PUT', `/api/notebooks/${nb.id}/members/bob`, tokens.alice, { role: 'editor', name: 'Bob' });
    const a = await openAs(browser, pb, `/notebooks/${nb.id}`, tokens.alice);
    const b = await openAs(browser, pb, `/notebooks/${nb.id}`, tokens.bob);
    await Promise.all([a.page, b.page].map((p) => p.waitForSelector('[data-editors-ready="true"]')));
    await waitForEditor(a.page, 'step_0');
    const live = (page: Page) => page.locator('.cm-content').count();
    const liveAtTop = await live(a.page);
    expect(liveAtTop).toBeGreaterThan(0);
    expect(liveAtTop).toBeLessThan(60);
    const far = (page: Page, name: string) => page.locator(`section[data-cell-name="${name}"]`);
    expect(await far(a.page, 'step_59').locator('.cm-content').count()).toBe(0);

    // Bob scrolls to the last cell and types there; Alice's parked copy of it follows as plain text.
    await far(b.page, 'step_59').scrollIntoViewIfNeeded();
    await waitForEditor(b.page, 'step_59');
    await editorOf(b.page, 'step_59').click();
    await b.page.keyboard.press('Control+End');
    await b.page.keyboard.type(' -- from bob');
    await until('Alice’s parked cell shows Bob’s text', async () =>
      (await far(a.page, 'step_59').locator('pre.cell-editor-static').textContent())?.includes('from bob'),
    );

    // Alice scrolls there: the cell wakes as an editor with the text, the top of the notebook parks, and her typing
    // reaches Bob.
    await far(a.page, 'step_59').scrollIntoViewIfNeeded();
    await waitForEditor(a.page, 'step_59');
    expect(await editorText(a.page, 'step_59')).toBe('SELECT 59 AS k -- from bob');
    await until('the top cell parks', async () => (await far(a.page, 'step_0').locator('.cm-content').count()) === 0);
    expect(await far(a.page, 'step_0').locator('pre.cell-editor-static').textContent()).toBe('SELECT 0 AS k');
    await editorOf(a.page, 'step_59').click();
    await a.page.keyboard.press('Control+End');
    await a.page.keyboard.type(' and alice');
    await until(
      'Alice’s text reaches Bob',
      async () => (await editorText(b.page, 'step_59')) === 'SELECT 59 AS k -- from bob and alice',
    );
    await a.context.close();
    await b.context.close();
  });
});
