// The Livy test server speaks Livy's wire format where clients can tell (checked with plain fetch, no Pipebook client).
import { afterEach, describe, expect, it } from 'vitest';
import { type LivyTestServer, startLivyServer } from './server.ts';

let server: LivyTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const json = { 'content-type': 'application/json', 'x-requested-by': 'test' };

async function waitState(base: string, id: number, state: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = await (await fetch(`${base}/sessions/${id}/state`)).json();
    if (s.state === state) return;
    if (Date.now() > deadline) throw new Error(`session ${id} never reached ${state} (now ${s.state})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Livy test server', () => {
  it('creates sessions with 201 and Location, answers unknown ids with Livy messages', async () => {
    server = await startLivyServer();
    const res = await fetch(`${server.url}/sessions`, { method: 'POST', headers: json, body: '{"kind":"python"}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/sessions/0');
    expect(await res.json()).toMatchObject({ id: 0, kind: 'pyspark', state: 'not_started', appInfo: {} });
    const list = await (await fetch(`${server.url}/sessions?from=0&size=10`)).json();
    expect(list).toMatchObject({ from: 0, total: 1, sessions: [{ id: 0 }] });
    const missing = await fetch(`${server.url}/sessions/7`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ msg: "Session '7' not found." });
    const del = await fetch(`${server.url}/sessions/7`, { method: 'DELETE', headers: json });
    expect(await del.json()).toEqual({ msg: 'Session 7 already stopped.' });
    const bad = await fetch(`${server.url}/sessions`, { method: 'POST', headers: json, body: '{nope' });
    expect(bad.status).toBe(400);
  });

  it('runs statements one at a time and answers sql with a Spark schema', async () => {
    // Boot slow enough that the first POST below surely finds the session still booting, even on a loaded machine.
    server = await startLivyServer({
      bootDelaysMs: { notStarted: 300, starting: 300 },
      statementDurationMs: (code) => (code.includes('slow') ? 200 : 0),
    });
    await fetch(`${server.url}/sessions`, { method: 'POST', headers: json, body: '{}' });
    const early = await fetch(`${server.url}/sessions/0/statements`, {
      method: 'POST',
      headers: json,
      body: '{"code":"SELECT 1","kind":"sql"}',
    });
    expect(early.status).toBe(500);
    expect(await early.text()).toMatch(
      /^java\.lang\.IllegalStateException: Session is in state (not_started|starting)$/,
    );
    await waitState(server.url, 0, 'idle');
    const noKind = await fetch(`${server.url}/sessions/0/statements`, {
      method: 'POST',
      headers: json,
      body: '{"code":"1"}',
    });
    expect(noKind.status).toBe(400); // a shared session needs the statement's kind
    const post = (code: string) =>
      fetch(`${server!.url}/sessions/0/statements`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ code, kind: 'sql' }),
      });
    const first = await post("SELECT 'slow' AS s");
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/sessions/0/statements/0');
    expect(await first.json()).toMatchObject({ id: 0, state: 'waiting', output: null });
    await post("SELECT 42::BIGINT AS answer, DATE '2024-02-29' AS d");
    await waitState(server.url, 0, 'busy');
    const both = await (await fetch(`${server.url}/sessions/0/statements?order=desc`)).json();
    expect(both.total_statements).toBe(2);
    expect(both.statements.map((s: { id: number; state: string }) => [s.id, s.state])).toEqual([
      [1, 'waiting'],
      [0, 'running'],
    ]);
    await waitState(server.url, 0, 'idle');
    const done = await (await fetch(`${server.url}/sessions/0/statements/1`)).json();
    expect(done).toMatchObject({ state: 'available', progress: 1 });
    expect(done.completed).toBeGreaterThanOrEqual(done.started);
    expect(done.output).toEqual({
      status: 'ok',
      execution_count: 1,
      data: {
        'application/json': {
          schema: {
            type: 'struct',
            fields: [
              { name: 'answer', type: 'long', nullable: true, metadata: {} },
              { name: 'd', type: 'date', nullable: true, metadata: {} },
            ],
          },
          data: [[42, '2024-02-29T00:00:00.000Z']],
        },
      },
    });
    const gone = await fetch(`${server.url}/sessions/0/statements/9`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ msg: 'Statement not found' });
  });

  it('reports pyspark errors as available statements with output.status error', async () => {
    server = await startLivyServer();
    await fetch(`${server.url}/sessions`, { method: 'POST', headers: json, body: '{"kind":"pyspark"}' });
    await waitState(server.url, 0, 'idle');
    await fetch(`${server.url}/sessions/0/statements`, { method: 'POST', headers: json, body: '{"code":"1/0"}' });
    await waitState(server.url, 0, 'idle');
    let st = await (await fetch(`${server.url}/sessions/0/statements/0`)).json();
    const deadline = Date.now() + 5000;
    while (st.state !== 'available' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      st = await (await fetch(`${server.url}/sessions/0/statements/0`)).json();
    }
    expect(st.state).toBe('available');
    expect(st.output).toMatchObject({ status: 'error', ename: 'ZeroDivisionError', evalue: 'division by zero' });
    expect(st.output.traceback.join('')).toContain('File "<stdin>", line 1');
  });
});
