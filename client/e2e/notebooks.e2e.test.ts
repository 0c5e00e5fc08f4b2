// The notebooks page in local mode (one local user who owns everything): create, import, rename, share, delete.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openAs, type Pipebook, startPipebook, until, waitForEditor } from './harness.ts';

let pb: Pipebook;
let browser: Browser;

beforeAll(async () => {
  pb = await startPipebook({ kernel: false });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
});

describe('notebooks page', () => {
  it('creates from the demo, imports a file, renames, shares and deletes', async () => {
    const { context, page } = await openAs(browser, pb, '/');
    await page.getByText('No notebooks yet').waitFor();

    await page.getByRole('button', { name: 'New from demo' }).click();
    await page.waitForURL(/\/notebooks\/nb_/);
    await waitForEditor(page, 'top_countries');
    await page.getByRole('link', { name: '← Notebooks' }).click();
    await page.getByRole('link', { name: 'Demo: revenue by country' }).waitFor();

    const file = {
      format: 'pipebook',
      version: 1,
      title: 'Imported one',
      defaultEngine: 'duckdb',
      cells: [{ id: 'c_a', name: 'a', kind: 'sql', source: 'SELECT 42 AS answer', config: {} }],
    };
    await page.getByLabel('Notebook file to import').setInputFiles({
      name: 'x.pipebook.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(file)),
    });
    await page.waitForURL(/\/notebooks\/nb_/);
    await waitForEditor(page, 'a');
    // Renaming from inside the notebook renames it in the list too.
    await page.getByRole('button', { name: 'Rename notebook Imported one' }).click();
    await page.getByLabel('Notebook title').fill('Imported two');
    await page.getByLabel('Notebook title').press('Enter');
    await page.getByRole('button', { name: 'Rename notebook Imported two' }).waitFor();
    await page.getByRole('link', { name: '← Notebooks' }).click();
    await page.getByRole('link', { name: 'Imported two' }).waitFor();

    // A bad file is explained, naming the field, and nothing is created.
    await page.getByLabel('Notebook file to import').setInputFiles({
      name: 'bad.pipebook.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ ...file, cells: [{ ...file.cells[0], name: '1bad' }] })),
    });
    await page.getByRole('alert').filter({ hasText: 'cells.0.name' }).waitFor();

    await page.getByRole('button', { name: 'Rename Imported two' }).click();
    await page.getByLabel('New title').fill('Renamed one');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Renamed one' }).waitFor();

    await page.getByRole('button', { name: 'Share Renamed one' }).click();
    await page.getByLabel('User id').fill('dana');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const list = await pb.api<Array<{ id: string; title: string }>>('GET', '/api/notebooks');
    const renamed = list.find((n) => n.title === 'Renamed one')!;
    const members = await pb.api<Array<{ userId: string; role: string }>>(
      'GET',
      `/api/notebooks/${renamed.id}/members`,
    );
    expect(members).toContainEqual(expect.objectContaining({ userId: 'dana', role: 'viewer' }));

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete Renamed one' }).click();
    await until('deleted', async () => (await page.getByRole('link', { name: 'Renamed one' }).count()) === 0);
    expect((await pb.api<unknown[]>('GET', '/api/notebooks')).length).toBe(1);
    await context.close();
  });
});
