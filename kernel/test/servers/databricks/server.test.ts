// The Databricks test server follows the Statement Execution 2.0 brief (checked with raw HTTP), and the engine
// handles the paths the contract suite does not: Retry-After, a cancel that loses the race, OAuth failures,
// pre-signed links fetched without credentials.
import { PipebookError } from '@pipebook/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabricksEngine } from '../../../src/engines/databricks/engine.ts';
import { waitFor } from '../../contract/rows.ts';
import { TestClock } from '../../contract/targets.ts';
import { createWarehouse, type Warehouse } from '../../contract/warehouse.ts';
import { type DatabricksTestServer, startDatabricksTestServer } from './server.ts';

let warehouse: Warehouse;
let server: DatabricksTestServer;
const clock = new TestClock();
const WH = 'wh-1';

beforeAll(async () => {
  warehouse = await createWarehouse({ numbers: 5000 });
  server = await startDatabricksTestServer({
    warehouse,
    warehouseId: WH,
    pats: ['dapi-good'],
    oauthClients: [{ clientId: 'sp-1', clientSecret: 'sp-secret-XYZ' }],
    now: clock.now,
    waitScale: 0.05,
    rowsPerChunk: 1000,
  });
});
afterAll(async () => {
  await server?.close();
  warehouse?.close();
});

async function call(method: string, path: string, body?: unknown, token = 'dapi-good') {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: raw protocol bodies are probed field by field in the tests
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any>, headers: res.headers };
}
const submit = (b: Record<string, unknown>) => call('POST', '/api/2.0/sql/statements', { warehouse_id: WH, ...b });
const poll = (id: string) => call('GET', `/api/2.0/sql/statements/${id}`);

describe('Databricks test server: requests', () => {
  it('validates wait_timeout, format/disposition, required fields and auth', async () => {
    expect((await submit({ statement: 'SELECT 1', wait_timeout: '3s' })).body).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
    });
    expect((await submit({ statement: 'SELECT 1', wait_timeout: '51s' })).status).toBe(400);
    expect((await submit({ statement: 'SELECT 1', format: 'ARROW_STREAM' })).body.message).toContain('EXTERNAL_LINKS');
    expect((await call('POST', '/api/2.0/sql/statements', { statement: 'SELECT 1' })).status).toBe(400);
    expect((await submit({ warehouse_id: 'nope', statement: 'SELECT 1' })).status).toBe(404);
    const noAuth = await call('POST', '/api/2.0/sql/statements', { statement: 'SELECT 1', warehouse_id: WH }, 'wrong');
    expect(noAuth).toMatchObject({ status: 401, body: { error_code: 'UNAUTHENTICATED' } });
  });

  it('wait_timeout 0s answers PENDING at once; the statement goes RUNNING then SUCCEEDED with manifest and chunk 0', async () => {
    server.script({ match: 'progress_probe', pendingMs: 100, runningMs: 200 });
    const r = await submit({ statement: "SELECT 'progress_probe' AS p", wait_timeout: '0s' });
    expect(r.body.status).toEqual({ state: 'PENDING' });
    const seen = new Set<string>();
    const done = await waitFor('terminal state', async () => {
      const p = await poll(r.body.statement_id);
      seen.add(p.body.status.state);
      return p.body.status.state === 'SUCCEEDED' && p.body;
    });
    expect([...seen]).toEqual(expect.arrayContaining(['PENDING', 'RUNNING', 'SUCCEEDED']));
    expect(done.manifest).toMatchObject({
      format: 'JSON_ARRAY',
      total_chunk_count: 1,
      total_row_count: 1,
      truncated: false,
    });
    expect(done.result.data_array).toEqual([['progress_probe']]);
    server.script({ match: undefined, pendingMs: 0, runningMs: 0 });
  });

  it('on_wait_timeout=CANCEL cancels a statement still running when the wait ends; FAILED comes inside a 200', async () => {
    server.script({ match: 'cancel_probe', runningMs: 5000 });
    const r = await submit({ statement: "SELECT 'cancel_probe'", wait_timeout: '5s', on_wait_timeout: 'CANCEL' });
    expect(r.status).toBe(200);
    expect(r.body.status.state).toBe('CANCELED');
    server.script({ match: undefined, runningMs: 0 });
    const failed = await submit({ statement: 'SELECT nope FROM numbers', wait_timeout: '5s' });
    expect(failed.status).toBe(200);
    expect(failed.body.status).toMatchObject({
      state: 'FAILED',
      error: { error_code: 'BAD_REQUEST' },
      sql_state: '42703',
    });
    expect(failed.body.status.error.message).toMatch(/^\[UNRESOLVED_COLUMN\.WITHOUT_SUGGESTION\].*line 1 pos 7$/);
  });

  it('cancel is asynchronous: received at once, the state flips on a later poll', async () => {
    server.script({ match: 'async_cancel', runningMs: 5000 });
    const r = await submit({ statement: "SELECT 'async_cancel'", wait_timeout: '0s' });
    const id = r.body.statement_id;
    const c = await call('POST', `/api/2.0/sql/statements/${id}/cancel`);
    expect(c).toMatchObject({ status: 200, body: {} });
    expect((await poll(id)).body.status.state).not.toBe('CANCELED');
    expect((await poll(id)).body.status.state).toBe('CANCELED');
    server.script({ match: undefined, runningMs: 0 });
  });

  it('chunks INLINE results with next_chunk_index and internal links; row_limit truncates', async () => {
    const r = await submit({ statement: 'SELECT id FROM numbers ORDER BY id', wait_timeout: '5s' });
    expect(r.body.manifest.total_chunk_count).toBe(5);
    expect(r.body.manifest.chunks[2]).toMatchObject({ chunk_index: 2, row_offset: 2000, row_count: 1000 });
    expect(r.body.result).toMatchObject({
      chunk_index: 0,
      next_chunk_index: 1,
      next_chunk_internal_link: `/api/2.0/sql/statements/${r.body.statement_id}/result/chunks/1`,
    });
    const c4 = await call('GET', `/api/2.0/sql/statements/${r.body.statement_id}/result/chunks/4`);
    expect(c4.body.data_array[0]).toEqual(['4000']);
    expect(c4.body.next_chunk_index).toBeUndefined();
    const limited = await submit({ statement: 'SELECT id FROM numbers', wait_timeout: '5s', row_limit: 10 });
    expect(limited.body.manifest).toMatchObject({ total_row_count: 10, truncated: true });
  });

  it('serves EXTERNAL_LINKS from a route that refuses an Authorization header and honours expiration', async () => {
    const r = await submit({
      statement: 'SELECT id FROM numbers ORDER BY id',
      wait_timeout: '5s',
      disposition: 'EXTERNAL_LINKS',
    });
    const link = r.body.result.external_links[0];
    expect(link).toMatchObject({ chunk_index: 0, row_count: 1000, next_chunk_index: 1 });
    expect(Date.parse(link.expiration)).toBeGreaterThan(clock.now());
    const withAuth = await fetch(link.external_link, { headers: { Authorization: 'Bearer dapi-good' } });
    expect(withAuth.status).toBe(400);
    const rows = (await (await fetch(link.external_link)).json()) as string[][];
    expect(rows[999]).toEqual(['999']);
    clock.advance(16 * 60_000);
    expect((await fetch(link.external_link)).status).toBe(403);
  });

  it('closes results after their TTL and forgets statements after theirs', async () => {
    const r = await submit({ statement: 'SELECT 1 AS one', wait_timeout: '5s' });
    clock.advance(61 * 60_000);
    expect((await poll(r.body.statement_id)).body.status.state).toBe('CLOSED');
    clock.advance(12 * 3_600_000);
    expect((await poll(r.body.statement_id)).status).toBe(404);
  });

  it('issues OAuth tokens for client credentials only', async () => {
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const token = (auth: string) =>
      fetch(`${server.url}/oidc/v1/token`, {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=all-apis',
      });
    const ok = await token(basic('sp-1', 'sp-secret-XYZ'));
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect((await token(basic('sp-1', 'wrong'))).status).toBe(401);
  });
});

describe('DatabricksEngine against the test server', () => {
  const engine = (
    auth: { type: 'pat'; tokenEnv: string } | { type: 'oauth-m2m'; clientId: string; clientSecretEnv: string },
    env: Record<string, string>,
    extra = {},
  ) =>
    new DatabricksEngine(
      { name: 'dbx', type: 'databricks', host: server.url, warehouseId: WH, auth, waitTimeoutSeconds: 5, ...extra },
      { env, now: clock.now, client: { retryBaseMs: 10 } },
    );

  it('waits out Retry-After on 503 before resubmitting', async () => {
    const e = engine({ type: 'pat', tokenEnv: 'T' }, { T: 'dapi-good' });
    server.script({ faults: [{ route: 'submit', status: 503, retryAfter: 1 }] });
    const started = Date.now();
    await expect(e.validate('SELECT 1 AS one')).resolves.toEqual([{ name: 'one', type: 'INT' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('cancels in the background and polls to a terminal state, also when the cancel loses the race', async () => {
    const e = engine({ type: 'pat', tokenEnv: 'T' }, { T: 'dapi-good' });
    server.script({ match: 'race_probe', runningMs: 400, cancelLosesRace: true });
    const ac = new AbortController();
    const run = e.execute({ sql: "SELECT 'race_probe' AS p", signal: ac.signal, resultPath: '' });
    const settled = run.catch((x: unknown) => x);
    await waitFor(
      'cancel in flight',
      () =>
        e.pendingCancels.size === 0 &&
        server.log.some((l) => l.method === 'POST' && l.body && JSON.stringify(l.body).includes('race_probe')),
    );
    ac.abort();
    expect(await settled).toMatchObject({ code: 'cancelled' });
    await waitFor('background cancel registered', () => e.pendingCancels.size > 0);
    const states = await Promise.all([...e.pendingCancels]);
    expect(states).toEqual(['SUCCEEDED']);
    expect(server.log.some((l) => /\/cancel$/.test(l.path))).toBe(true);
    server.script({ match: undefined, runningMs: 0, cancelLosesRace: false });
  });

  it('fetches EXTERNAL_LINKS without our token and falls back from INLINE when the result is too large', async () => {
    const small = await startDatabricksTestServer({
      warehouse,
      warehouseId: WH,
      pats: ['dapi-good'],
      inlineByteLimit: 10_000,
      rowsPerChunk: 700,
    });
    try {
      const e = new DatabricksEngine(
        { name: 'dbx', type: 'databricks', host: small.url, warehouseId: WH, auth: { type: 'pat', tokenEnv: 'T' } },
        { env: { T: 'dapi-good' } },
      );
      const out = await e.execute({
        sql: 'SELECT id FROM numbers ORDER BY id',
        signal: new AbortController().signal,
        resultPath: '',
      });
      let n = 0;
      if (out.type === 'stream') for await (const b of out.batches) n += b.length;
      expect(n).toBe(5000);
      const submits = small.log.filter((l) => l.path === '/api/2.0/sql/statements');
      expect(submits.map((l) => (l.body as { disposition: string }).disposition)).toEqual(['INLINE', 'EXTERNAL_LINKS']);
      const external = small.log.filter((l) => l.path.startsWith('/external/'));
      expect(external).toHaveLength(8);
      expect(external.every((l) => l.status === 200 && l.authorization === undefined)).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('caches the OAuth token, fetches a new one after a 401, and reports bad client credentials without the secret', async () => {
    const e = engine({ type: 'oauth-m2m', clientId: 'sp-1', clientSecretEnv: 'S' }, { S: 'sp-secret-XYZ' });
    const before = server.tokensIssued;
    await e.validate('SELECT 1');
    await e.validate('SELECT 2');
    expect(server.tokensIssued - before).toBe(1);
    // A token the server stopped accepting before its expiry: one 401, a new token, the statement goes through.
    server.revokeIssuedTokens();
    await expect(e.validate('SELECT 3 AS three')).resolves.toEqual([{ name: 'three', type: 'INT' }]);
    expect(server.tokensIssued - before).toBe(2);
    expect(server.log.some((l) => l.status === 401 && l.path === '/api/2.0/sql/statements')).toBe(true);
    const bad = engine({ type: 'oauth-m2m', clientId: 'sp-1', clientSecretEnv: 'S' }, { S: 'not-the-secret-QQQ' });
    const err = await bad.validate('SELECT 1').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PipebookError);
    expect(err).toMatchObject({ code: 'unauthorized' });
    expect((err as Error).message).not.toContain('QQQ');
  });
});
