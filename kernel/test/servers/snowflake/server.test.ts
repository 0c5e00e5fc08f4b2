// The Snowflake test server follows the SQL API v2 brief (checked with raw HTTP), and the engine handles the paths
// the contract suite does not: lost answers retried with the same requestId, JWT rejection, 401 for OAuth.
import { generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { PipebookError } from '@pipebook/shared';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPairTokenSource } from '../../../src/engines/snowflake/auth.ts';
import { SnowflakeEngine } from '../../../src/engines/snowflake/engine.ts';
import { waitFor } from '../../contract/rows.ts';
import { TestClock } from '../../contract/targets.ts';
import { createWarehouse, type Warehouse } from '../../contract/warehouse.ts';
import { type SnowflakeTestServer, startSnowflakeTestServer } from './server.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ACCOUNT = 'xy12345.us-east-1';
const USER = 'tester';

let warehouse: Warehouse;
let server: SnowflakeTestServer;
const clock = new TestClock();
let jwt: KeyPairTokenSource;

beforeAll(async () => {
  warehouse = await createWarehouse({ numbers: 5000 });
  server = await startSnowflakeTestServer({
    warehouse,
    account: ACCOUNT,
    user: USER,
    publicKey,
    oauthTokens: ['oauth-good'],
    syncWaitMs: 150,
    now: clock.now,
  });
  jwt = new KeyPairTokenSource({ account: ACCOUNT, user: USER, privateKey, now: clock.now });
});
afterAll(async () => {
  await server?.close();
  warehouse?.close();
});

async function call(
  method: string,
  path: string,
  o: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const token = o.token ?? (await jwt.token());
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      'User-Agent': 'pipebook-test/1.0',
      'Content-Type': 'application/json',
      ...o.headers,
    },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function until200(handle: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const r = await call('GET', `/api/v2/statements/${handle}`);
    if (r.status !== 202) return { status: r.status, ...r.body };
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('statement never finished');
}

describe('Snowflake test server: authentication', () => {
  it('accepts a correct key-pair JWT and refuses every malformed one with 390144', async () => {
    expect((await call('POST', '/api/v2/statements?async=true', { body: { statement: 'SELECT 1' } })).status).toBe(202);
    const sign = (
      claims: { iss: string; sub: string },
      key = privateKey,
      life = 3000,
      iat = Math.floor(clock.now() / 1000),
    ) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuer(claims.iss)
        .setSubject(claims.sub)
        .setIssuedAt(iat)
        .setExpirationTime(iat + life)
        .sign(key);
    const fp = (jwt as unknown as { fingerprint: string }).fingerprint;
    const bad = [
      await sign({ iss: `XY12345.TESTER.${fp}`, sub: 'XY12345.TESTER' }, other.privateKey), // wrong key
      await sign({ iss: `xy12345.us-east-1.TESTER.${fp}`, sub: 'xy12345.us-east-1.TESTER' }), // account not normalised
      await sign({ iss: 'XY12345.TESTER.SHA256:AAAA', sub: 'XY12345.TESTER' }), // wrong fingerprint
      await sign({ iss: `XY12345.TESTER.${fp}`, sub: 'XY12345.TESTER' }, privateKey, 7200), // lifetime over 1 h
      await sign(
        { iss: `XY12345.TESTER.${fp}`, sub: 'XY12345.TESTER' },
        privateKey,
        60,
        Math.floor(clock.now() / 1000) - 120,
      ), // expired
    ];
    for (const token of bad) {
      const r = await call('POST', '/api/v2/statements?async=true', {
        token,
        body: { statement: 'SELECT 1' },
        headers: { 'X-Snowflake-Authorization-Token-Type': 'KEYPAIR_JWT' },
      });
      expect(r).toMatchObject({ status: 401, body: { code: '390144', message: 'JWT token is invalid.' } });
    }
  });

  it('checks OAuth tokens, the Bearer scheme and User-Agent', async () => {
    const ok = await call('POST', '/api/v2/statements?async=true', {
      token: 'oauth-good',
      body: { statement: 'SELECT 1' },
      headers: { 'X-Snowflake-Authorization-Token-Type': 'OAUTH' },
    });
    expect(ok.status).toBe(202);
    const bad = await call('POST', '/api/v2/statements', {
      token: 'oauth-bad',
      body: { statement: 'SELECT 1' },
      headers: { 'X-Snowflake-Authorization-Token-Type': 'OAUTH' },
    });
    expect(bad).toMatchObject({ status: 401, body: { code: '390303' } });
    const noUa = await fetch(`${server.url}/api/v2/statements`, {
      method: 'POST',
      headers: { Authorization: 'Bearer oauth-good', 'User-Agent': '' },
      body: '{}',
    });
    expect(noUa.status).toBe(400);
    const noAuth = await fetch(`${server.url}/api/v2/statements`, {
      method: 'POST',
      headers: { 'User-Agent': 'x' },
      body: '{"statement":"SELECT 1"}',
    });
    expect(noAuth.status).toBe(401);
  });
});

describe('Snowflake test server: statements', () => {
  it('answers 202 after the sync wait, then 200 on a later GET; async=true answers 202 at once', async () => {
    server.script({ match: 'sync_wait_probe', queuedMs: 50, runningMs: 300 });
    const started = Date.now();
    const r = await call('POST', '/api/v2/statements?requestId=11111111-1111-4111-8111-111111111111', {
      body: { statement: "SELECT 'sync_wait_probe' AS p" },
    });
    expect(r.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(r.body).toMatchObject({
      code: '333334',
      statementStatusUrl: `/api/v2/statements/${r.body.statementHandle}`,
    });
    const done = await until200(String(r.body.statementHandle));
    expect(done).toMatchObject({ status: 200, code: '090001', sqlState: '00000', data: [['sync_wait_probe']] });
    server.script({ match: undefined, queuedMs: 0, runningMs: 0 });
    const quick = await call('POST', '/api/v2/statements', { body: { statement: 'SELECT 1 AS one' } });
    expect(quick).toMatchObject({ status: 200, body: { data: [['1']] } });
  });

  it('pages: metadata only in partition 0, gzip and Link headers on later partitions, any order', async () => {
    server.script({ partitionRows: 1000 });
    const r = await call('POST', '/api/v2/statements', {
      body: { statement: 'SELECT id, label FROM numbers ORDER BY id' },
    });
    expect(r.status).toBe(200);
    const meta = r.body.resultSetMetaData as {
      numRows: number;
      partitionInfo: unknown[];
      rowType: Array<{ type: string; name: string }>;
    };
    expect(meta.numRows).toBe(5000);
    expect(meta.partitionInfo).toHaveLength(5);
    expect(meta.rowType.map((c) => [c.name, c.type])).toEqual([
      ['ID', 'fixed'],
      ['LABEL', 'text'],
    ]);
    const handle = String(r.body.statementHandle);
    // Raw socket-level check that partition 3 really is gzip on the wire.
    const raw = await fetch(`${server.url}/api/v2/statements/${handle}?partition=3`, {
      headers: { Authorization: `Bearer ${await jwt.token()}`, 'User-Agent': 'x', 'Accept-Encoding': 'gzip' },
    });
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    const link = raw.headers.get('link') ?? '';
    expect(link).toContain('partition=4>; rel="next"');
    expect(link).toContain('partition=2>; rel="prev"');
    expect(link).toContain('rel="first"');
    expect(link).toContain('partition=4>; rel="last"');
    const p3 = (await raw.json()) as Record<string, unknown>;
    expect(Object.keys(p3)).toEqual(['data']);
    expect((p3.data as string[][])[0]).toEqual(['3000', 'n3000']);
    // fetch decoded it; make sure an explicit gunzip of the bytes gives the same rows.
    const bytes = await (
      await fetch(`${server.url}/api/v2/statements/${handle}?partition=1`, {
        headers: { Authorization: `Bearer ${await jwt.token()}`, 'User-Agent': 'x', 'Accept-Encoding': 'gzip' },
        // @ts-expect-error undici option: keep the body compressed
        decompress: false,
      })
    ).arrayBuffer();
    const text = (() => {
      try {
        return gunzipSync(Buffer.from(bytes)).toString();
      } catch {
        return Buffer.from(bytes).toString();
      }
    })();
    expect(JSON.parse(text).data[0]).toEqual(['1000', 'n1000']);
    server.script({ partitionRows: 10_000 });
  });

  it('refuses a statement count other than MULTI_STATEMENT_COUNT and runs multi-statements as child handles', async () => {
    const two = 'SELECT 1 AS a; SELECT 2 AS b';
    const r = await call('POST', '/api/v2/statements', { body: { statement: two } });
    expect(r).toMatchObject({
      status: 422,
      body: { code: '000008', message: 'Actual statement count 2 did not match the desired statement count 1.' },
    });
    const ok = await call('POST', '/api/v2/statements', {
      body: { statement: two, parameters: { multi_statement_count: 2 } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual([['Multiple statements executed successfully.']]);
    const children = ok.body.statementHandles as string[];
    expect(children).toHaveLength(2);
    expect((await call('GET', `/api/v2/statements/${children[1]}`)).body.data).toEqual([['2']]);
  });

  it('sends NULL as "null" with nullable=false, and maps errors to 422 bodies', async () => {
    const r = await call('POST', '/api/v2/statements?nullable=false', {
      body: { statement: 'SELECT NULL AS n, 1 AS one' },
    });
    expect(r.body.data).toEqual([['null', '1']]);
    const missing = await call('POST', '/api/v2/statements', { body: { statement: 'SELECT * FROM no_such_table' } });
    expect(missing).toMatchObject({ status: 422, body: { code: '002003', sqlState: '42S02' } });
    const col = await call('POST', '/api/v2/statements', { body: { statement: 'SELECT afaf FROM numbers' } });
    expect(col).toMatchObject({ status: 422, body: { code: '000904', sqlState: '42000' } });
    expect(String(col.body.message)).toBe(
      "SQL compilation error: error line 1 at position 7\ninvalid identifier 'AFAF'",
    );
  });

  it('answers 408 when the statement timeout passes, then 422 on GET; cancel gives 000604', async () => {
    server.script({ match: 'timeout_probe', runningMs: 2000 });
    const slow = "SELECT 'timeout_probe' AS p";
    const t = await call('POST', '/api/v2/statements', { body: { statement: slow, timeout: 1 } });
    // The sync wait (150 ms here) ends before the 1 s timeout: poll until the timeout shows.
    const handle = String(t.body.statementHandle);
    const after = await until200(handle);
    expect(after).toMatchObject({ status: 422, code: '000630', sqlState: '57014' });

    const running = await call('POST', '/api/v2/statements?async=true', { body: { statement: slow } });
    const h = String(running.body.statementHandle);
    const c = await call('POST', `/api/v2/statements/${h}/cancel`);
    expect(c).toMatchObject({
      status: 200,
      body: { code: '000604', sqlState: '57014', message: 'SQL execution canceled' },
    });
    expect((await call('GET', `/api/v2/statements/${h}`)).body).toMatchObject({ code: '000604' });
    const unknown = await call('POST', '/api/v2/statements/00000000-0000-0000-0000-000000000000/cancel');
    expect(unknown).toMatchObject({ status: 422, body: { code: '000709', sqlState: '02000' } });
    server.script({ match: undefined, runningMs: 0 });
  });
});

describe('SnowflakeEngine against the test server', () => {
  const engine = (auth: 'keypair' | 'oauth', env: Record<string, string>, now = clock.now) =>
    new SnowflakeEngine(
      {
        name: 'snow',
        type: 'snowflake',
        account: ACCOUNT,
        user: USER,
        url: server.url,
        auth: auth === 'keypair' ? { type: 'keypair', privateKeyEnv: 'K' } : { type: 'oauth', tokenEnv: 'T' },
      },
      { env, now, client: { retryBaseMs: 10 } },
    );
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  it('resubmits after a lost answer with the same requestId and retry=true, and the statement runs once', async () => {
    const e = engine('keypair', { K: pem });
    server.script({ faults: [{ route: 'submit', status: 500, processFirst: true }] });
    const before = server.log.length;
    const execs = server.executions.length;
    const out = await e.execute({ sql: "SELECT 'once' AS x", signal: new AbortController().signal, resultPath: '' });
    const rows: unknown[][] = [];
    if (out.type === 'stream') for await (const b of out.batches) rows.push(...b);
    expect(rows).toEqual([['once']]);
    const posts = server.log.slice(before).filter((l) => l.method === 'POST');
    // The retry reports the statement that already ran (finished by now: 200) instead of running it again.
    expect(posts.map((p) => [p.status, p.retry])).toEqual([
      [500, false],
      [200, true],
    ]);
    expect(posts[0].requestId).toBe(posts[1].requestId);
    expect(server.executions.length - execs).toBe(1);
  });

  it('signs a new JWT when the server rejects the cached one (clock skew), once', async () => {
    // The engine's clock runs 58 min behind the server's: its fresh token looks nearly expired to the server.
    const skewed = () => clock.now() - 58 * 60_000;
    const e = engine('keypair', { K: pem }, skewed);
    await e.validate('SELECT 1 AS one');
    const minted = server.jwtIssuedAt.length;
    clock.advance(2 * 60_000);
    await expect(e.validate('SELECT 1 AS one')).resolves.toEqual([{ name: 'ONE', type: 'NUMBER(38,0)' }]);
    expect(server.jwtIssuedAt.length).toBe(minted + 1);
    expect(server.log.some((l) => l.status === 401)).toBe(true);
  });

  it('reports a refused OAuth token as unauthorized without echoing it', async () => {
    const e = engine('oauth', { T: 'oauth-revoked-SECRET' });
    const err = await e.catalog().catch((x: unknown) => x);
    expect(err).toBeInstanceOf(PipebookError);
    expect((err as PipebookError).code).toBe('unauthorized');
    expect((err as PipebookError).message).toContain('390303');
    expect((err as PipebookError).message).not.toContain('SECRET');
  });

  it('cancels a statement whose submit is still waiting: finds it by requestId (retry=true) without running it twice', async () => {
    const patient = await startSnowflakeTestServer({ warehouse, oauthTokens: ['oauth-good'], syncWaitMs: 30_000 });
    try {
      patient.script({ match: 'patient_probe', runningMs: 20_000 });
      const e = new SnowflakeEngine(
        {
          name: 's',
          type: 'snowflake',
          account: ACCOUNT,
          user: USER,
          url: patient.url,
          auth: { type: 'oauth', tokenEnv: 'T' },
        },
        { env: { T: 'oauth-good' } },
      );
      const ac = new AbortController();
      const started = Date.now();
      const run = e
        .execute({ sql: "SELECT 'patient_probe' AS p", signal: ac.signal, resultPath: '' })
        .catch((x: unknown) => x);
      // The submitting POST is still waiting on the server, so nothing is in the log yet.
      await waitFor('the statement to run', () => patient.runningCount() > 0);
      ac.abort();
      expect(await run).toMatchObject({ code: 'cancelled' });
      expect(Date.now() - started).toBeLessThan(5000);
      await waitFor('the cancel to be answered', () => patient.log.some((l) => l.path.includes('/cancel')));
      const paths = patient.log.filter((l) => l.method === 'POST').map((l) => l.path);
      const lookup = paths.findIndex((p) => p.includes('retry=true') && p.includes('async=true'));
      const cancel = paths.findIndex((p) => p.includes('/cancel'));
      expect(lookup).toBeGreaterThanOrEqual(0);
      expect(cancel).toBeGreaterThan(lookup);
      expect(patient.runningCount()).toBe(0);
      expect(patient.executions).toEqual([]);
    } finally {
      await patient.close();
    }
  });

  it('refuses an incomplete result (391908) instead of passing part of it on', async () => {
    const e = engine('oauth', { T: 'oauth-good' });
    const body = {
      code: '391908',
      message: 'The result set size exceeded the max allowed. The response is incomplete.',
      statementHandle: 'h-391908',
      resultSetMetaData: {
        numRows: 1,
        format: 'jsonv2',
        rowType: [{ name: 'A', type: 'fixed', scale: 0 }],
        partitionInfo: [{ rowCount: 1 }],
      },
      data: [['1']],
    };
    server.script({ faults: [{ route: 'submit', status: 200, body }] });
    await expect(
      e.execute({ sql: 'SELECT 1 AS a', signal: new AbortController().signal, resultPath: '' }),
    ).rejects.toMatchObject({
      code: 'too_large',
    });
  });

  it('gives up on a persistent 429 with rate_limited', async () => {
    const e = new SnowflakeEngine(
      {
        name: 's',
        type: 'snowflake',
        account: ACCOUNT,
        user: USER,
        url: server.url,
        auth: { type: 'oauth', tokenEnv: 'T' },
      },
      { env: { T: 'oauth-good' }, client: { retryBaseMs: 5, retryMaxMs: 20, retryAttempts: 3 } },
    );
    server.script({ faults: [{ route: 'submit', status: 429, times: 3 }] });
    await expect(e.validate('SELECT 1')).rejects.toMatchObject({ code: 'rate_limited' });
  });
});
