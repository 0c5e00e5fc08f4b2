// Automatic snapshots on a real repository, driven tick by tick (no timers in the test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CellId, demoNotebookFile, docFromFile, setSource } from '@pipebook/shared';
import { afterEach, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { AutoSnapshots } from '../../src/git/auto-snapshot.ts';
import { GitService } from '../../src/git/service.ts';

let home: string;
afterEach(() => rmSync(home, { recursive: true, force: true }));

it('snapshots only after activity, as the automatic user, and resumes after a restart', async () => {
  home = mkdtempSync(join(tmpdir(), 'pipebook-auto-'));
  const doc: Y.Doc = docFromFile(demoNotebookFile());
  let held = 0;
  const docs = {
    home,
    openDoc: async () => {
      held++;
      return { doc, release: () => held-- };
    },
  };
  const service = new GitService(docs);
  const auto = new AutoSnapshots(docs, service, false);
  await auto.configure('nb_auto', 5);
  expect(held).toBe(1);

  expect(await auto.tick('nb_auto')).toBeUndefined(); // no activity yet
  setSource(doc, 'demo_orders_clean' as CellId, 'SELECT 1');
  const first = await auto.tick('nb_auto');
  expect(first).toMatch(/^[0-9a-f]{40}$/);
  expect(await auto.tick('nb_auto')).toBeUndefined(); // nothing new since
  const [snap] = await service.history('nb_auto', {});
  expect(snap).toMatchObject({
    commit: first,
    author: { name: 'Pipebook (automatic)' },
    message: 'Automatic snapshot (5 min)',
  });

  // A new server process picks the setting up again.
  auto.close();
  expect(held).toBe(0);
  const again = new AutoSnapshots(docs, service, false);
  expect(await again.resume()).toEqual(['nb_auto']);
  expect(again.minutes('nb_auto')).toBe(5);
  await again.configure('nb_auto', 0);
  expect(held).toBe(0);
  expect(await new AutoSnapshots(docs, service, false).resume()).toEqual([]);
  await expect(again.configure('nb_auto', -1)).rejects.toMatchObject({ code: 'bad_request' });
  service.close();
});
