// Automatic snapshots on a real repository, driven tick by tick (no timers in the test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CellId, demoNotebookFile, docFromFile, setSource } from '@pipebook/shared';
import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
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

it('under scale-out, instances that tick together make one snapshot, and a tick denied the lease retries', async () => {
  home = mkdtempSync(join(tmpdir(), 'pipebook-auto-'));
  // Two instances on one PIPEBOOK_HOME, each with its own replica of the notebook kept in sync (as the bus does).
  const docA: Y.Doc = docFromFile(demoNotebookFile());
  const docB = new Y.Doc();
  Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA));
  docA.on('update', (u: Uint8Array, origin: unknown) => origin !== 'bus' && Y.applyUpdate(docB, u, 'bus'));
  docB.on('update', (u: Uint8Array, origin: unknown) => origin !== 'bus' && Y.applyUpdate(docA, u, 'bus'));
  // The lease as Redis SET NX gives it: one holder at a time; `away` stands for Redis being unreachable.
  const leases = new Set<string>();
  let away = false;
  const exclusive = async (key: string, _ttlMs: number, fn: () => Promise<void>) => {
    if (away || leases.has(key)) return false;
    leases.add(key);
    try {
      await fn();
      return true;
    } finally {
      leases.delete(key);
    }
  };
  const access = (doc: Y.Doc) => ({ home, openDoc: async () => ({ doc, release: () => {} }), exclusive });
  const serviceA = new GitService(access(docA));
  const serviceB = new GitService(access(docB));
  const autoA = new AutoSnapshots(access(docA), serviceA, false);
  const autoB = new AutoSnapshots(access(docB), serviceB, false);
  await autoA.configure('nb_auto', 5);
  await autoB.resume();

  setSource(docA, 'demo_orders_clean' as CellId, 'SELECT 2');
  const [a, b] = await Promise.all([autoA.tick('nb_auto'), autoB.tick('nb_auto')]);
  expect([a, b].filter(Boolean)).toHaveLength(1);
  expect(await serviceA.history('nb_auto', {})).toHaveLength(1);
  // The instance that lost the race retries at its next tick and finds nothing new to commit.
  expect(await autoA.tick('nb_auto')).toBeUndefined();
  expect(await autoB.tick('nb_auto')).toBeUndefined();
  expect(await serviceB.history('nb_auto', {})).toHaveLength(1);

  // Redis away: no instance commits, and the change is not forgotten.
  setSource(docB, 'demo_orders_clean' as CellId, 'SELECT 3');
  away = true;
  expect(await autoA.tick('nb_auto')).toBeUndefined();
  expect(await autoB.tick('nb_auto')).toBeUndefined();
  away = false;
  const later = await autoB.tick('nb_auto');
  expect(later).toMatch(/^[0-9a-f]{40}$/);
  expect(await serviceA.history('nb_auto', {})).toHaveLength(2);
  autoA.close();
  autoB.close();
  serviceA.close();
  serviceB.close();
});
