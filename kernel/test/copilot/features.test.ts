// The Copilot as the kernel mounts it (mountKernelFeatures): it reads its model settings from the same config file the
// engine connections come from (here pipebook.config.yml, not .yaml), and verifies proposals over file sources in the
// kernel's own data folder (the context's dataDir), not one re-derived from the environment.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addCell, PipebookError } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mountKernelFeatures } from '../../src/http/features.ts';
import { answer, demoDoc, readCopilotEvents, serveApi, withDemoWarehouse, withModelServer } from './fixtures.ts';

const wh = withDemoWarehouse();
const model = withModelServer({ apiKey: 'test-key' });
let home: string;
let base: string;
let close: () => Promise<void>;
const savedDataDir = process.env.PIPEBOOK_DATA_DIR;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'pipebook-features-'));
  writeFileSync(
    path.join(home, 'pipebook.config.yml'),
    stringify({ copilot: { baseUrl: model.baseURL, apiKey: 'test-key', model: 'yml-model', timeoutMs: 5000 } }),
  );
  // The kernel's data folder lies where its config put it; the environment points elsewhere, where no file exists.
  const dataDir = path.join(wh.dir, 'kernel-data');
  mkdirSync(dataDir);
  writeFileSync(path.join(dataDir, 'sales.csv'), 'id,amount\n1,10\n2,20\n3,30\n');
  process.env.PIPEBOOK_DATA_DIR = path.join(home, 'elsewhere');

  const { doc } = demoDoc();
  addCell(doc, { kind: 'source', name: 'sales', config: { type: 'file', path: 'sales.csv', format: 'csv' } });
  const server = await serveApi((api) =>
    mountKernelFeatures(api, {
      home,
      dataDir,
      engines: { list: () => [wh.engine.info], get: () => wh.engine },
      openNotebook: async (id) => {
        if (id !== 'nb_1') throw new PipebookError('not_found', 'No such notebook.');
        return { doc, release: () => {} };
      },
      authorize: async () => ({ id: 'u_1', name: 'Grace' }),
    }),
  );
  base = server.url;
  close = server.close;
});

afterAll(async () => {
  if (savedDataDir === undefined) delete process.env.PIPEBOOK_DATA_DIR;
  else process.env.PIPEBOOK_DATA_DIR = savedDataDir;
  await close?.();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('Copilot mounted by the kernel', () => {
  it('is configured from pipebook.config.yml', async () => {
    const status = await (await fetch(`${base}/api/copilot/status`)).json();
    expect(status).toEqual({ configured: true, model: 'yml-model', endpoint: new URL(model.baseURL).origin });
  });

  it("verifies a proposal over a file source in the kernel's data folder", async () => {
    model.script({
      type: 'content',
      content: answer([{ name: 'sales_total', sql: 'SELECT sum(amount) AS total FROM sales' }]),
    });
    const res = await fetch(`${base}/api/copilot/notebooks/nb_1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer editor' },
      body: JSON.stringify({ request: 'total of the sales file' }),
    });
    expect(res.status).toBe(200);
    const all = await readCopilotEvents(res);
    const failed = all.filter((e) => e.type === 'check' && !e.result.ok);
    expect(failed).toEqual([]);
    const proposal = all.find((e) => e.type === 'proposal');
    expect(proposal?.type === 'proposal' && proposal.proposal.verified).toBe(true);
  });
});
