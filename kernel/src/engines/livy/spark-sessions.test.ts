import { CellId } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { type SessionBackend, SparkSessionPool } from './spark-sessions.ts';
import type { RemoteSessionState, SessionLostEvent } from './spark-types.ts';
import { SessionLostError } from './spark-types.ts';

/** A scripted remote side: each session walks through `boot` states, one per state() call. */
function fakeBackend(boot: RemoteSessionState['phase'][] = ['starting', 'idle']) {
  let next = 0;
  const calls = { create: 0, destroy: [] as string[] };
  const states = new Map<string, RemoteSessionState['phase'][]>();
  const gone = new Set<string>();
  const backend: SessionBackend = {
    noun: 'test session',
    async create() {
      calls.create++;
      const id = String(next++);
      states.set(id, [...boot]);
      return id;
    },
    async state(id) {
      if (gone.has(id)) throw new SessionLostError(`Test session ${id} no longer exists.`);
      const list = states.get(id)!;
      const phase = list.length > 1 ? list.shift()! : list[0];
      return { phase, raw: phase };
    },
    async destroy(id) {
      calls.destroy.push(id);
    },
  };
  return { backend, calls, states, gone };
}

describe('SparkSessionPool', () => {
  it('[S1] boots one session for concurrent callers and reuses it while it runs', async () => {
    const f = fakeBackend(['starting', 'starting', 'idle']);
    const pool = new SparkSessionPool({ engine: 'e', backend: f.backend, pollMinMs: 1, pollMaxMs: 2 });
    const [a, b] = await Promise.all([pool.ensure('nb', 'sql'), pool.ensure('nb', 'sql')]);
    expect(a).toBe(b);
    expect(a.id).toBe('0');
    expect((await pool.ensure('nb', 'sql')).id).toBe('0');
    expect((await pool.ensure('nb', 'pyspark')).id).toBe('1');
    expect(f.calls.create).toBe(2);
  });

  it('[S7] lets a caller stop waiting without stopping the boot others wait for', async () => {
    const f = fakeBackend(['starting', 'starting', 'starting', 'idle']);
    const pool = new SparkSessionPool({ engine: 'e', backend: f.backend, pollMinMs: 1, pollMaxMs: 2 });
    const ctl = new AbortController();
    const first = pool.ensure('nb', 'sql', ctl.signal);
    const second = pool.ensure('nb', 'sql');
    ctl.abort();
    await expect(first).rejects.toMatchObject({ code: 'cancelled' });
    expect((await second).phase).toBe('idle');
    expect(f.calls.create).toBe(1);
  });

  it('[S8] reports a lost session once, with exactly its cells, and then boots a new one', async () => {
    const f = fakeBackend(['idle']);
    const pool = new SparkSessionPool({ engine: 'e', backend: f.backend, pollMinMs: 1 });
    const events: SessionLostEvent[] = [];
    pool.onSessionLost((e) => events.push(e));
    const e = await pool.ensure('nb', 'sql');
    e.holdings.set(CellId.of('c1'), { view: 'one', inputHash: 'h1' });
    e.holdings.set(CellId.of('c2'), { view: 'two' });
    pool.lose(e, '0', 'Test session 0 is dead.');
    pool.lose(e, '0', 'again'); // a second run noticing the same death
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      engine: 'e',
      notebookId: 'nb',
      kind: 'sql',
      sessionId: '0',
      cellIds: ['c1', 'c2'],
    });
    expect(f.calls.destroy).toEqual(['0']);
    expect((await pool.ensure('nb', 'sql')).id).toBe('1');
    expect(pool.views()[0]).toMatchObject({ sessionId: '1', phase: 'idle', cells: [] });
  });

  it('[S8] notices sessions that died or vanished when checked', async () => {
    const f = fakeBackend(['idle']);
    const pool = new SparkSessionPool({ engine: 'e', backend: f.backend, pollMinMs: 1 });
    const events: SessionLostEvent[] = [];
    pool.onSessionLost((e) => events.push(e));
    await pool.ensure('nb', 'sql');
    await pool.ensure('nb2', 'sql');
    f.states.set('0', ['dead']);
    f.gone.add('1');
    await pool.check();
    expect(events.map((e) => [e.sessionId, e.reason])).toEqual([
      ['0', 'Test session 0 is dead.'],
      ['1', 'Test session 1 no longer exists.'],
    ]);
  });

  it('[S11] fails a boot that ends dead, and destroys every session on close', async () => {
    const f = fakeBackend(['starting', 'dead']);
    const pool = new SparkSessionPool({ engine: 'e', backend: f.backend, pollMinMs: 1 });
    await expect(pool.ensure('nb', 'sql')).rejects.toMatchObject({ code: 'engine_unavailable' });
    expect(pool.views()[0]).toMatchObject({ phase: 'dead', error: expect.stringMatching(/failed to start/) });
    f.states.clear();
    const ok = fakeBackend(['idle']);
    const pool2 = new SparkSessionPool({ engine: 'e', backend: ok.backend, pollMinMs: 1 });
    await pool2.ensure('a', 'sql');
    await pool2.ensure('b', 'sql');
    await pool2.close();
    expect(ok.calls.destroy.sort()).toEqual(['0', '1']);
    await expect(pool2.ensure('a', 'sql')).rejects.toMatchObject({ code: 'engine_unavailable' });
  });
});
