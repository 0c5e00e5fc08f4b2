// C5: the lease that keeps work (compaction) to one instance at a time, against a real redis-server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisDocBus } from '../../src/cluster/redis-doc-bus.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { waitFor } from '../helpers.ts';
import { startRedis } from './redis-process.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const quiet = { info() {}, warn() {}, error() {} };

describe('instance lease', () => {
  it('[C5] one holder at a time; released after the work; expires when its holder dies', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.cleanup());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-lease-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = new SqliteStore(dir, { durability: 'normal', fsyncIntervalMs: 5 });
    cleanups.push(() => store.close());
    const buses = [0, 1].map(() => new RedisDocBus({ url: redis.url, store, sqliteFile: store.file, log: quiet }));
    for (const b of buses) cleanups.push(() => b.close());
    await waitFor(() => buses.every((b) => b.state === 'up'), 5000, 'connected');

    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const first = buses[0].runExclusive('pipebook:test:lease', 10_000, () => held);
    // While the first holds it, the second is refused without running.
    let ran = false;
    await waitFor(
      async () =>
        !(await buses[1].runExclusive('pipebook:test:lease', 10_000, () => {
          ran = true;
        })),
      2000,
      'second refused',
    );
    expect(ran).toBe(false);
    release();
    expect(await first).toBe(true);
    // Released: the second gets it now.
    expect(await buses[1].runExclusive('pipebook:test:lease', 10_000, () => {})).toBe(true);

    // A holder that dies leaves the key behind; it expires after its TTL and another instance takes over.
    const admin = new Redis(redis.url);
    cleanups.push(() => admin.disconnect());
    await admin.set('pipebook:test:lease', 'a-dead-instance', 'PX', 300);
    expect(await buses[0].runExclusive('pipebook:test:lease', 10_000, () => {})).toBe(false);
    await waitFor(async () => buses[0].runExclusive('pipebook:test:lease', 10_000, () => {}), 3000, 'expired lease');
    // A holder whose lease expired during its work (and was taken by another) does not delete the other's lease.
    await buses[0].runExclusive('pipebook:test:slow', 200, async () => {
      await waitFor(async () => (await admin.set('pipebook:test:slow', 'other', 'PX', 10_000, 'NX')) === 'OK', 3000);
    });
    expect(await admin.get('pipebook:test:slow')).toBe('other');
  });
});
