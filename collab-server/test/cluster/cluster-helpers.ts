// Factories for the scale-out tests: a real redis-server plus collab-server processes on one shared PIPEBOOK_HOME,
// writers that record what they received, and the checks the tests share.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { orderArray } from '@pipebook/shared';
import { expect } from 'vitest';
import * as Y from 'yjs';
import { contentOf, countTags, randomEdit } from '../editing.ts';
import { type CollabProcess, newClient, startCollabProcess, type TestClient, waitFor } from '../helpers.ts';
import { randomInt } from '../random.ts';
import { type RedisProcess, startRedis } from './redis-process.ts';

export const cleanups: Array<() => Promise<void> | void> = [];
/** Call from afterEach: stops and removes everything the helpers started, newest first. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length) await cleanups.pop()?.();
}

export interface Cluster {
  redis: RedisProcess;
  home: string;
  instances: CollabProcess[];
  start(env?: Record<string, string>): Promise<CollabProcess>;
}

export async function startCluster(n: number, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startRedis();
  cleanups.push(() => redis.cleanup());
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-cluster-'));
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  const cluster: Cluster = {
    redis,
    home,
    instances: [],
    async start(extra = {}) {
      const p = await startCollabProcess({
        PIPEBOOK_HOME: home,
        PIPEBOOK_REDIS_URL: redis.url,
        PIPEBOOK_SEED_DEMO: '0',
        ...env,
        ...extra,
      });
      cleanups.push(() => p.kill());
      cluster.instances.push(p);
      return p;
    },
  };
  // Sequential: both would otherwise create the schema of the shared SQLite file at the same moment.
  for (let i = 0; i < n; i++) await cluster.start();
  await Promise.all(
    cluster.instances.map((p) => waitFor(async () => (await health(p)).cluster?.redis === 'up', 10_000, 'redis up')),
  );
  return cluster;
}

export interface Health {
  ok: boolean;
  cluster?: { redis: string; crossInstanceSync: boolean };
}
export async function health(p: CollabProcess): Promise<Health> {
  return (await (await fetch(`${p.url}/healthz`)).json()) as Health;
}
export async function metric(p: CollabProcess, name: string): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no metric ${name}`);
  return Number(m[1]);
}

/** A writer that records, in a shadow doc, every update it received from its server. */
export interface Writer extends TestClient {
  received: Y.Doc;
  tags: string[];
}
export function newWriter(url: string, id: string): Writer {
  const c = newClient(url, id);
  cleanups.push(() => c.destroy());
  const received = new Y.Doc();
  c.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === c.provider) Y.applyUpdate(received, update);
  });
  return { ...c, received, tags: [] };
}

/** True when `fresh` already holds everything in `received`. */
export function contains(fresh: Y.Doc, received: Y.Doc): boolean {
  const probe = new Y.Doc();
  Y.applyUpdate(probe, Y.encodeStateAsUpdate(fresh));
  const before = { sv: Y.encodeStateVector(probe).join(','), content: contentOf(probe) };
  Y.applyUpdate(probe, Y.encodeStateAsUpdate(received));
  const same = Y.encodeStateVector(probe).join(',') === before.sv && contentOf(probe) === before.content;
  probe.destroy();
  return same;
}

export const allSame = (docs: Y.Doc[]) => docs.every((d) => contentOf(d) === contentOf(docs[0]));

/** Random inserts (no deletes, so each tag must end up exactly once) from random writers until `until()`. */
export async function burst(
  writers: Writer[],
  rand: () => number,
  prefix: string,
  until: () => boolean,
): Promise<number> {
  let seq = 0;
  while (!until()) {
    for (let k = 0; k < 3; k++) {
      const w = writers[randomInt(rand, writers.length)];
      const tag = `<${prefix}${seq++}>`;
      w.tags.push(tag);
      randomEdit(w.doc, rand, tag, true, false);
    }
    await new Promise((r) => setTimeout(r, randomInt(rand, 4)));
  }
  return seq;
}

export function expectEveryTagOnce(doc: Y.Doc, writers: Writer[]): void {
  const tags = writers.flatMap((w) => w.tags);
  const counts = countTags(doc, tags);
  expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  const order = orderArray(doc).toArray();
  expect(new Set(order).size).toBe(order.length);
}
