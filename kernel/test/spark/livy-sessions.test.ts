// Livy session lifecycle, statements, progress, cancel and security, against the Livy test server.
import { PipebookError } from '@pipebook/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineProgress } from '../../src/engines/engine.ts';
import { LivyClient } from '../../src/engines/livy/livy-client.ts';
import { runLivyStatement } from '../../src/engines/livy/livy-statements.ts';
import { livyStack, rowsOf, signal, step, until } from './harness.ts';

let stack: Awaited<ReturnType<typeof livyStack>> | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('Livy sessions', () => {
  it('[S1][S2] boots a session through not_started and starting, then runs statements in it and reuses it', async () => {
    stack = await livyStack({ bootDelaysMs: { notStarted: 60, starting: 80 } });
    const { engine, livy } = stack;
    const progress: EngineProgress[] = [];
    const seen = new Set<string>();
    const run = engine.runCells({
      notebookId: 'nb1',
      steps: [step('big', 'sql', 'SELECT id, amount FROM orders WHERE amount > 400')],
      signal: signal(),
      onProgress: (p) => progress.push(p),
    });
    await until('the session to show as starting', async () => {
      const s = await engine.sessions();
      for (const v of s.sessions) seen.add(v.phase);
      return seen.has('starting');
    });
    const rows = await rowsOf(await run);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => (r[1] as number) > 400)).toBe(true);
    // The client saw Livy's boot states, and submitted only once the session was idle.
    expect(progress.some((p) => p.state === 'not_started' || p.state === 'starting')).toBe(true);
    const session = livy.sessions.get(0)!;
    expect(session.log.join('\n')).toMatch(/state changed to starting[\s\S]*state changed to idle/);
    expect(livy.requests.filter((r) => r.status === 500)).toEqual([]);

    await engine.runCells({ notebookId: 'nb1', steps: [step('again', 'sql', 'SELECT 1 AS one')], signal: signal() });
    expect(livy.sessions.size).toBe(1);
    expect(livy.statementCodes(0).some((c) => c.includes('`again`'))).toBe(true);
    const view = await engine.sessions();
    expect(view.sessions).toEqual([
      expect.objectContaining({ notebookId: 'nb1', kind: 'sql', sessionId: '0', phase: 'idle', raw: 'idle' }),
    ]);
    expect(view.sessions[0].cells.sort()).toEqual(['c_again', 'c_big']);
  });

  it('[S1] keeps one session per notebook and kind, and boots concurrent first runs only once', async () => {
    stack = await livyStack({ bootDelaysMs: { notStarted: 30, starting: 30 } });
    const { engine, livy } = stack;
    await Promise.all([
      engine.runCells({ notebookId: 'nb1', steps: [step('a', 'sql', 'SELECT 1 AS x')], signal: signal() }),
      engine.runCells({ notebookId: 'nb1', steps: [step('b', 'sql', 'SELECT 2 AS x')], signal: signal() }),
      engine.runCells({ notebookId: 'nb1', steps: [step('p', 'pyspark', 'spark.range(3)')], signal: signal() }),
      engine.runCells({ notebookId: 'nb2', steps: [step('c', 'sql', 'SELECT 3 AS x')], signal: signal() }),
    ]);
    const kinds = [...livy.sessions.values()].map((s) => s.kind).sort();
    expect(kinds).toEqual(['pyspark', 'sql', 'sql']);
  });

  it('[S2] retries a statement while Livy answers 500 "Session is in state starting", then runs it', async () => {
    stack = await livyStack({ bootDelaysMs: { notStarted: 150, starting: 250 } });
    const { livy } = stack;
    const client = new LivyClient({ url: livy.url });
    const session = await client.createSession({ kind: 'sql' });
    expect(session.state).toBe('not_started');
    const out = await runLivyStatement(client, session.id, 'SELECT 41 + 1 AS answer', 'sql', {
      signal: signal(),
      pollMinMs: 5,
      pollMaxMs: 20,
      notReadyBudgetMs: 5000,
    });
    expect((out.data['application/json'] as { data: unknown[][] }).data).toEqual([[42]]);
    const posts = livy.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/statements'));
    expect(posts.some((r) => r.status === 500)).toBe(true);
    expect(posts.at(-1)?.status).toBe(201);
  });

  it('[S1] reports a session that fails to boot with its last log lines', async () => {
    stack = await livyStack({ bootOutcome: 'dead' });
    const err = await stack.engine
      .runCells({ notebookId: 'nb1', steps: [step('a', 'sql', 'SELECT 1 AS x')], signal: signal() })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PipebookError);
    expect(err.code).toBe('engine_unavailable');
    expect(err.message).toMatch(/failed to start \(state dead\)/);
    expect(err.message).toMatch(/AM Container/);
    const view = await stack.engine.sessions();
    expect(view.sessions[0]).toMatchObject({ phase: 'dead', error: expect.stringMatching(/failed to start/) });
  });

  it('pages the session log the way Livy does (last lines by default, then from/size)', async () => {
    stack = await livyStack();
    const { engine, livy } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [step('a', 'sql', 'SELECT 1 AS x')], signal: signal() });
    livy.kill(0);
    const client = new LivyClient({ url: livy.url });
    const total = livy.sessions.get(0)!.log.length;
    expect(total).toBeGreaterThan(4);
    const tail = await client.getLog(0, undefined, 2);
    expect(tail).toMatchObject({ id: 0, from: total - 2, total });
    expect(tail.log).toEqual(livy.sessions.get(0)!.log.slice(-2));
    expect(tail.log.at(-1)).toMatch(/state changed to dead/);
    const pages: string[] = [];
    for (let from = 0; from < total; from += 3) pages.push(...(await client.getLog(0, from, 3)).log);
    expect(pages).toEqual(livy.sessions.get(0)!.log);
  });

  it('[S10] streams Livy statement progress to onProgress', async () => {
    stack = await livyStack({
      statementDurationMs: (code) => (code.includes('slow') ? 400 : 0),
      progressTickMs: 20,
    });
    const progress: EngineProgress[] = [];
    await stack.engine.runCells({
      notebookId: 'nb1',
      steps: [step('slow', 'sql', 'SELECT count(*) AS n FROM orders')],
      signal: signal(),
      onProgress: (p) => progress.push(p),
    });
    const fractions = progress.filter((p) => p.fraction !== undefined).map((p) => p.fraction!);
    expect(fractions.filter((f) => f > 0 && f < 1).length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < fractions.length; i++) {
      if (fractions[i] < fractions[i - 1]) expect(fractions[i]).toBe(0); // a new statement starts at 0
    }
    expect(fractions).toContain(1);
    expect(progress.some((p) => p.message?.includes('Running slow (1/1)'))).toBe(true);
  });

  it('[S7] cancels a running statement, and the session stays usable', async () => {
    stack = await livyStack({ statementDurationMs: (code) => (code.includes('slow') ? 20_000 : 0) });
    const { engine, livy } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [step('warm', 'sql', 'SELECT 1 AS x')], signal: signal() });
    const ctl = new AbortController();
    const run = engine.runCells({
      notebookId: 'nb1',
      steps: [step('slow', 'sql', 'SELECT 2 AS x')],
      signal: ctl.signal,
    });
    const session = livy.sessions.get(0)!;
    await until('the slow statement to run', () => session.statements.some((s) => s.state === 'running'));
    const started = Date.now();
    ctl.abort();
    const err = await run.catch((e) => e);
    expect(err).toMatchObject({ code: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(5000);
    const slow = session.statements.find((s) => s.code.includes('`slow`'))!;
    expect(slow.state).toBe('cancelled');
    expect(livy.requests.some((r) => r.path.endsWith(`/statements/${slow.id}/cancel`))).toBe(true);
    const rows = await rowsOf(
      await engine.runCells({ notebookId: 'nb1', steps: [step('after', 'sql', 'SELECT 3 AS x')], signal: signal() }),
    );
    expect(rows).toEqual([[3]]);
  });

  it('[S7] cancels a statement still waiting behind another one', async () => {
    stack = await livyStack({ statementDurationMs: (code) => (code.includes('slow') ? 2000 : 0) });
    const { engine, livy } = stack;
    await engine.runCells({ notebookId: 'nb1', steps: [step('warm', 'sql', 'SELECT 1 AS x')], signal: signal() });
    const first = engine.runCells({
      notebookId: 'nb1',
      steps: [step('slow', 'sql', 'SELECT 10 AS x')],
      signal: signal(),
    });
    const session = livy.sessions.get(0)!;
    await until('the slow statement to run', () => session.statements.some((s) => s.state === 'running'));
    const ctl = new AbortController();
    const second = engine.runCells({
      notebookId: 'nb1',
      steps: [step('queued', 'sql', 'SELECT 20 AS x')],
      signal: ctl.signal,
    });
    await until('the second statement to wait', () =>
      session.statements.some((s) => s.code.includes('`queued`') && s.state === 'waiting'),
    );
    ctl.abort();
    expect(await second.catch((e) => e)).toMatchObject({ code: 'cancelled' });
    const queued = session.statements.find((s) => s.code.includes('`queued`'))!;
    expect(queued.state).toBe('cancelled');
    expect(queued.started).toBe(0); // it never ran
    expect(await rowsOf(await first)).toEqual([[10]]);
  });
});

describe('Livy security', () => {
  it('[S3] sends X-Requested-By on every request, so Livy with CSRF protection accepts them', async () => {
    stack = await livyStack({ csrf: true });
    const { engine, livy } = stack;
    const rows = await rowsOf(
      await engine.runCells({ notebookId: 'nb1', steps: [step('a', 'sql', 'SELECT 5 AS x')], signal: signal() }),
    );
    expect(rows).toEqual([[5]]);
    expect(livy.requests.length).toBeGreaterThan(2);
    expect(livy.requests.every((r) => typeof r.headers['x-requested-by'] === 'string')).toBe(true);
    // The toggle is real: a POST without the header is refused.
    const res = await fetch(`${livy.url}/sessions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Missing Required Header for CSRF protection.');
  });

  it('[S3] authenticates with HTTP Basic behind a Knox-like gateway path, and reports bad credentials', async () => {
    stack = await livyStack(
      { basicAuth: { user: 'ana', password: 's3cret' }, basePath: '/gateway/sandbox/livy/v1', csrf: true },
      { auth: { type: 'basic', user: 'ana', password: 's3cret' } },
    );
    const { engine, livy } = stack;
    expect(livy.url).toMatch(/\/gateway\/sandbox\/livy\/v1$/);
    const rows = await rowsOf(
      await engine.runCells({ notebookId: 'nb1', steps: [step('a', 'sql', 'SELECT 7 AS x')], signal: signal() }),
    );
    expect(rows).toEqual([[7]]);
    expect(livy.sessions.get(0)!.owner).toBe('ana');
    expect(livy.requests.every((r) => r.status !== 401)).toBe(true);

    const { LivyEngine } = await import('../../src/engines/livy/livy-engine.ts');
    const wrong = new LivyEngine({
      type: 'livy',
      name: 'wrong',
      url: livy.url,
      auth: { type: 'basic', user: 'ana', password: 'nope' },
      healthCheckMs: 0,
    });
    const err = await wrong.execute({ sql: 'SELECT 1', signal: signal(), resultPath: '' }).catch((e) => e);
    await wrong.close();
    expect(err).toMatchObject({ code: 'unauthorized' });
    expect(err.message).not.toContain('nope');
  });
});
