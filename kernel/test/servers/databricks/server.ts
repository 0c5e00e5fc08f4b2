// A Databricks SQL Statement Execution 2.0 test server that follows the protocol brief: Bearer tokens (PATs or tokens
// from its /oidc/v1/token client-credentials endpoint, with expiry), wait_timeout 0 or 5-50 s with CONTINUE/CANCEL,
// PENDING -> RUNNING -> SUCCEEDED/FAILED, FAILED inside a 200, async cancel (the state flips on a later poll, and can
// lose the race), INLINE chunks with next_chunk_index/internal links, EXTERNAL_LINKS served from a second route that
// refuses an Authorization header and honours `expiration`, row_limit/byte_limit with `truncated`, the inline byte
// limit, CLOSED after the result TTL and 404 after the statement TTL (injectable clock), and scripted 429/503 with
// Retry-After. SQL runs on DuckDB; backtick identifiers are translated to double quotes first (a test-server stand-in
// for Spark SQL).
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWarehouse, type Warehouse, type WarehouseOptions } from '../../contract/warehouse.ts';
import { encodeValue, type ManifestColumn, manifestColumns, sparkError, sparkToDuckDb } from './encode.ts';

export { sparkError };

export type DatabricksRoute = 'token' | 'submit' | 'poll' | 'chunk' | 'cancel' | 'external';

export interface DatabricksFault {
  route: DatabricksRoute | 'any';
  status: number;
  times?: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  body?: string;
}

export interface DatabricksScript {
  faults?: DatabricksFault[];
  pendingMs?: number;
  runningMs?: number;
  /** Only statements containing this get the timing above; default all. */
  match?: string;
  rowsPerChunk?: number;
  /** Let the statement finish even when cancelled (the cancel loses the race). */
  cancelLosesRace?: boolean;
}

export interface DatabricksTestServerOptions extends WarehouseOptions {
  host?: string;
  port?: number;
  warehouseId?: string;
  pats?: string[];
  oauthClients?: Array<{ clientId: string; clientSecret: string }>;
  /** Lifetime of issued OAuth tokens (real: 3600). */
  tokenTtlSeconds?: number;
  rowsPerChunk?: number;
  /** INLINE results larger than this fail (real: 25 MiB). */
  inlineByteLimit?: number;
  /** Pre-signed link lifetime (real: up to 15 min). */
  linkTtlMs?: number;
  /** SUCCEEDED -> CLOSED after this (real: 1 h). */
  resultTtlMs?: number;
  /** Terminal statements answer 404 after this (real: about 12 h). */
  statementTtlMs?: number;
  /** Multiplies wait_timeout so tests need not block for 5 s (1 = real time). */
  waitScale?: number;
  now?: () => number;
  warehouse?: Warehouse;
}

export interface DatabricksRequestLogEntry {
  method: string;
  path: string;
  status: number;
  authorization?: string;
  body?: unknown;
}

export interface DatabricksTestServer {
  url: string;
  script(s: DatabricksScript): void;
  log: DatabricksRequestLogEntry[];
  executions: string[];
  tokensIssued: number;
  statementState(id: string): string | undefined;
  /** Invalidates every OAuth token issued so far (as a rotated secret or revoked session would). */
  revokeIssuedTokens(): void;
  close(): Promise<void>;
}

type State = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';

interface Statement {
  id: string;
  sql: string;
  state: State;
  disposition: 'INLINE' | 'EXTERNAL_LINKS';
  rowLimit?: number;
  byteLimit?: number;
  terminalAt?: number;
  cancelRequested: boolean;
  /** Polls seen since the cancel request: the state flips on the second one. */
  pollsSinceCancel: number;
  columns?: ManifestColumn[];
  chunks?: (string | null)[][][];
  chunkJson?: string[];
  chunkBytes?: number[];
  truncated?: boolean;
  error?: { error_code: string; message: string };
  sqlState?: string;
  done: Promise<void>;
  abort: AbortController;
}

const TERMINAL: State[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED'];

export async function startDatabricksTestServer(opts: DatabricksTestServerOptions = {}): Promise<DatabricksTestServer> {
  const warehouse = opts.warehouse ?? (await createWarehouse(opts));
  const ownsWarehouse = !opts.warehouse;
  const now = opts.now ?? Date.now;
  const warehouseId = opts.warehouseId ?? 'pipebook-test-warehouse';
  const statements = new Map<string, Statement>();
  const issued = new Map<string, number>();
  const links = new Map<string, { statementId: string; chunk: number; expiresAt: number }>();
  const log: DatabricksRequestLogEntry[] = [];
  const executions: string[] = [];
  let tokensIssued = 0;
  let script: DatabricksScript = {};
  const faults: Array<DatabricksFault & { left: number }> = [];
  let baseUrl = '';

  const timing = (sql: string) =>
    !script.match || sql.includes(script.match)
      ? { pendingMs: script.pendingMs ?? 0, runningMs: script.runningMs ?? 0 }
      : { pendingMs: 0, runningMs: 0 };

  function takeFault(route: DatabricksRoute): DatabricksFault | undefined {
    const f = faults.find((x) => x.left > 0 && (x.route === route || x.route === 'any'));
    if (!f) return undefined;
    f.left--;
    return f;
  }

  function authorized(req: http.IncomingMessage): boolean {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    if (opts.pats?.includes(m[1])) return true;
    const exp = issued.get(m[1]);
    return exp !== undefined && now() < exp;
  }

  function finish(st: Statement, state: State) {
    st.state = state;
    st.terminalAt = now();
  }

  async function execute(st: Statement): Promise<void> {
    const { pendingMs, runningMs } = timing(st.sql);
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        if (ms <= 0) return resolve();
        const t = setTimeout(resolve, ms);
        st.abort.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
    await wait(pendingMs);
    if (st.abort.signal.aborted) return;
    st.state = 'RUNNING';
    await wait(runningMs);
    if (st.abort.signal.aborted) return;
    try {
      executions.push(st.sql);
      const result = await warehouse.run(sparkToDuckDb(st.sql));
      if (st.abort.signal.aborted) return;
      let rows = result.rows.map((r) => r.map(encodeValue));
      let truncated = false;
      if (st.rowLimit !== undefined && rows.length > st.rowLimit) {
        rows = rows.slice(0, st.rowLimit);
        truncated = true;
      }
      if (st.byteLimit !== undefined) {
        let bytes = 0;
        const limit = st.byteLimit;
        const keep = rows.findIndex((r) => {
          bytes += Buffer.byteLength(JSON.stringify(r));
          return bytes > limit;
        });
        if (keep >= 0) {
          rows = rows.slice(0, keep);
          truncated = true;
        }
      }
      const size = Math.max(1, script.rowsPerChunk ?? opts.rowsPerChunk ?? 10_000);
      const chunks: (string | null)[][][] = [];
      for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
      // Each chunk is serialised once: sizes for the manifest and the bodies of external links.
      const chunkJson = chunks.map((c) => JSON.stringify(c));
      const chunkBytes = chunkJson.map((j) => Buffer.byteLength(j));
      const total = chunkBytes.reduce((a, b) => a + b, 0);
      const inlineLimit = opts.inlineByteLimit ?? 25 * 1024 * 1024;
      if (st.disposition === 'INLINE' && total > inlineLimit) {
        st.error = {
          error_code: 'BAD_REQUEST',
          message: `Inline byte limit exceeded. Statements executed with disposition=INLINE can have a result size of at most ${inlineLimit} bytes. Please use disposition=EXTERNAL_LINKS for large results.`,
        };
        finish(st, 'FAILED');
        return;
      }
      st.chunkJson = chunkJson;
      st.chunkBytes = chunkBytes;
      st.columns = manifestColumns(result.columns);
      st.chunks = chunks;
      st.truncated = truncated;
      finish(st, 'SUCCEEDED');
    } catch (err) {
      if (st.abort.signal.aborted) return;
      const e = sparkError((err as Error).message);
      st.error = { error_code: 'BAD_REQUEST', message: e.message };
      st.sqlState = e.sqlState;
      finish(st, 'FAILED');
    }
  }

  /** Applies the clock: results expire (CLOSED), statements vanish (404 -> undefined). */
  function current(id: string): Statement | undefined {
    const st = statements.get(id);
    if (!st) return undefined;
    if (st.terminalAt !== undefined && now() - st.terminalAt > (opts.statementTtlMs ?? 12 * 3_600_000)) {
      statements.delete(id);
      return undefined;
    }
    if (st.state === 'SUCCEEDED' && now() - (st.terminalAt ?? 0) > (opts.resultTtlMs ?? 3_600_000)) st.state = 'CLOSED';
    return st;
  }

  const chunkLink = (st: Statement, i: number) => `/api/2.0/sql/statements/${st.id}/result/chunks/${i}`;

  function rowOffset(st: Statement, i: number): number {
    let n = 0;
    for (let k = 0; k < i; k++) n += st.chunks![k].length;
    return n;
  }

  function chunkBody(st: Statement, i: number): Record<string, unknown> {
    const rows = st.chunks![i];
    const hasNext = i + 1 < st.chunks!.length;
    const nextFields = hasNext ? { next_chunk_index: i + 1, next_chunk_internal_link: chunkLink(st, i + 1) } : {};
    const base = { chunk_index: i, row_offset: rowOffset(st, i), row_count: rows.length };
    if (st.disposition === 'INLINE') return { ...base, data_array: rows, ...nextFields };
    const token = randomBytes(12).toString('hex');
    const expiresAt = now() + (opts.linkTtlMs ?? 15 * 60_000);
    links.set(token, { statementId: st.id, chunk: i, expiresAt });
    return {
      external_links: [
        {
          ...base,
          byte_count: st.chunkBytes?.[i] ?? 0,
          external_link: `${baseUrl}/external/${token}`,
          expiration: new Date(expiresAt).toISOString(),
          ...nextFields,
        },
      ],
    };
  }

  function response(st: Statement): Record<string, unknown> {
    const out: Record<string, unknown> = {
      statement_id: st.id,
      status: {
        state: st.state,
        ...(st.error ? { error: st.error } : {}),
        ...(st.sqlState ? { sql_state: st.sqlState } : {}),
      },
    };
    if (st.state === 'SUCCEEDED' && st.chunks && st.columns) {
      out.manifest = {
        format: 'JSON_ARRAY',
        schema: { column_count: st.columns.length, columns: st.columns },
        total_chunk_count: st.chunks.length,
        chunks: st.chunks.map((c, i) => ({
          chunk_index: i,
          row_offset: rowOffset(st, i),
          row_count: c.length,
          byte_count: st.chunkBytes?.[i] ?? 0,
        })),
        total_row_count: st.chunks.reduce((n, c) => n + c.length, 0),
        total_byte_count: (st.chunkBytes ?? []).reduce((a, b) => a + b, 0),
        truncated: st.truncated ?? false,
      };
      if (st.chunks.length > 0) out.result = chunkBody(st, 0);
    }
    return out;
  }

  function requestCancel(st: Statement) {
    if (TERMINAL.includes(st.state) || st.cancelRequested) return;
    st.cancelRequested = true;
    if (!script.cancelLosesRace) {
      st.abort.abort();
      warehouse.interrupt();
    }
  }

  type Answer = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> };
  const err = (status: number, error_code: string, message: string): Answer => ({
    status,
    body: { error_code, message },
  });

  async function handle(
    req: http.IncomingMessage,
    url: URL,
    text: string,
  ): Promise<{ status: number; body?: unknown; raw?: string; headers?: Record<string, string> }> {
    const p = url.pathname;
    if (p === '/oidc/v1/token' && req.method === 'POST') {
      const f = takeFault('token');
      if (f) return fault(f);
      const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [id, secret] = m ? Buffer.from(m[1], 'base64').toString().split(':').map(decodeURIComponent) : [];
      const form = new URLSearchParams(text);
      if (form.get('grant_type') !== 'client_credentials')
        return { status: 400, body: { error: 'unsupported_grant_type' } };
      if (!opts.oauthClients?.some((c) => c.clientId === id && c.clientSecret === secret))
        return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
      const token = `dbx-oauth-${randomBytes(16).toString('hex')}`;
      const ttl = opts.tokenTtlSeconds ?? 3600;
      issued.set(token, now() + ttl * 1000);
      tokensIssued++;
      return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: ttl, scope: 'all-apis' } };
    }
    const ext = /^\/external\/([0-9a-f]+)$/.exec(p);
    if (ext && req.method === 'GET') {
      const f = takeFault('external');
      if (f) return fault(f);
      // Pre-signed storage URLs carry their own signature; a second credential is refused (as S3 does).
      if (req.headers.authorization)
        return {
          status: 400,
          raw: '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>',
        };
      const link = links.get(ext[1]);
      if (!link) return { status: 404, raw: '<Error><Code>NoSuchKey</Code></Error>' };
      if (now() > link.expiresAt)
        return { status: 403, raw: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' };
      const st = statements.get(link.statementId);
      return { status: 200, raw: st?.chunkJson?.[link.chunk] ?? '[]' };
    }
    if (!p.startsWith('/api/2.0/sql/statements'))
      return err(404, 'ENDPOINT_NOT_FOUND', `No API found for '${req.method} ${p}'`);
    if (!authorized(req))
      return err(401, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.');

    if (p === '/api/2.0/sql/statements' && req.method === 'POST') {
      const f = takeFault('submit');
      if (f) return fault(f);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text || '{}');
      } catch {
        return err(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request');
      }
      if (typeof body.statement !== 'string' || !body.statement)
        return err(400, 'INVALID_PARAMETER_VALUE', 'statement is required');
      if (typeof body.warehouse_id !== 'string') return err(400, 'INVALID_PARAMETER_VALUE', 'warehouse_id is required');
      if (body.warehouse_id !== warehouseId)
        return err(404, 'RESOURCE_DOES_NOT_EXIST', `Warehouse ${body.warehouse_id} does not exist`);
      const wt = /^(\d+)s$/.exec(String(body.wait_timeout ?? '10s'));
      const waitS = wt ? Number(wt[1]) : Number.NaN;
      if (!(waitS === 0 || (waitS >= 5 && waitS <= 50)))
        return err(400, 'INVALID_PARAMETER_VALUE', 'wait_timeout must be 0s or between 5s and 50s');
      const onWait = String(body.on_wait_timeout ?? 'CONTINUE');
      if (onWait !== 'CONTINUE' && onWait !== 'CANCEL')
        return err(400, 'INVALID_PARAMETER_VALUE', 'on_wait_timeout must be CONTINUE or CANCEL');
      const disposition = String(body.disposition ?? 'INLINE');
      const format = String(body.format ?? 'JSON_ARRAY');
      if (disposition !== 'INLINE' && disposition !== 'EXTERNAL_LINKS')
        return err(400, 'INVALID_PARAMETER_VALUE', `Invalid disposition ${disposition}`);
      if (format !== 'JSON_ARRAY' && format !== 'ARROW_STREAM' && format !== 'CSV')
        return err(400, 'INVALID_PARAMETER_VALUE', `Invalid format ${format}`);
      if (format !== 'JSON_ARRAY' && disposition === 'INLINE')
        return err(400, 'INVALID_PARAMETER_VALUE', `${format} format requires EXTERNAL_LINKS disposition`);
      if (format !== 'JSON_ARRAY')
        return err(400, 'NOT_IMPLEMENTED', 'The Pipebook test server serves JSON_ARRAY only');
      if (body.parameters !== undefined)
        return err(400, 'NOT_IMPLEMENTED', 'The Pipebook test server does not bind parameters');
      const st: Statement = {
        id: `01ef${randomUUID().replace(/-/g, '').slice(4)}`,
        sql: body.statement,
        state: 'PENDING',
        disposition,
        rowLimit: typeof body.row_limit === 'number' ? body.row_limit : undefined,
        byteLimit: typeof body.byte_limit === 'number' ? body.byte_limit : undefined,
        cancelRequested: false,
        pollsSinceCancel: 0,
        done: Promise.resolve(),
        abort: new AbortController(),
      };
      statements.set(st.id, st);
      st.done = execute(st);
      if (waitS > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          st.done,
          new Promise<void>((r) => (timer = setTimeout(r, waitS * 1000 * (opts.waitScale ?? 1)))),
        ]);
        clearTimeout(timer);
        if (!TERMINAL.includes(st.state) && onWait === 'CANCEL') {
          requestCancel(st);
          finish(st, 'CANCELED');
        }
      }
      return { status: 200, body: response(st) };
    }
    const cancel = /^\/api\/2\.0\/sql\/statements\/([^/]+)\/cancel$/.exec(p);
    if (cancel && req.method === 'POST') {
      const f = takeFault('cancel');
      if (f) return fault(f);
      const st = current(cancel[1]);
      if (!st) return err(404, 'NOT_FOUND', `Statement ${cancel[1]} not found`);
      requestCancel(st);
      // Received, not done: the state changes on a later poll.
      return { status: 200, body: {} };
    }
    const chunk = /^\/api\/2\.0\/sql\/statements\/([^/]+)\/result\/chunks\/(\d+)$/.exec(p);
    if (chunk && req.method === 'GET') {
      const f = takeFault('chunk');
      if (f) return fault(f);
      const st = current(chunk[1]);
      if (!st) return err(404, 'NOT_FOUND', `Statement ${chunk[1]} not found`);
      if (st.state === 'CLOSED')
        return err(400, 'BAD_REQUEST', `Statement ${st.id} is CLOSED; its result is no longer available`);
      const i = Number(chunk[2]);
      if (st.state !== 'SUCCEEDED' || !st.chunks || i >= st.chunks.length)
        return err(400, 'INVALID_PARAMETER_VALUE', `Chunk ${i} is not available for statement ${st.id}`);
      return { status: 200, body: chunkBody(st, i) };
    }
    const get = /^\/api\/2\.0\/sql\/statements\/([^/]+)$/.exec(p);
    if (get && req.method === 'GET') {
      const f = takeFault('poll');
      if (f) return fault(f);
      const st = current(get[1]);
      if (!st) return err(404, 'NOT_FOUND', `Statement ${get[1]} not found`);
      if (st.cancelRequested && !TERMINAL.includes(st.state)) {
        // Status lags: the first poll after a cancel may still say RUNNING.
        st.pollsSinceCancel++;
        if (st.pollsSinceCancel >= 2 && !script.cancelLosesRace) finish(st, 'CANCELED');
      }
      return { status: 200, body: response(st) };
    }
    return err(404, 'ENDPOINT_NOT_FOUND', `No API found for '${req.method} ${p}'`);
  }

  function fault(f: DatabricksFault): Answer {
    const code =
      f.status === 429 ? 'RESOURCE_EXHAUSTED' : f.status === 503 ? 'TEMPORARILY_UNAVAILABLE' : 'INTERNAL_ERROR';
    return {
      status: f.status,
      raw: f.body ?? JSON.stringify({ error_code: code, message: `Scripted ${f.status} from the test server` }),
      headers: f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : undefined,
    };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      handle(req, url, text)
        .catch((e) => err(500, 'INTERNAL_ERROR', String((e as Error).message)))
        .then((out) => {
          let body: unknown;
          try {
            body = text && req.headers['content-type']?.includes('json') ? JSON.parse(text) : undefined;
          } catch {}
          log.push({
            method: req.method ?? '',
            path: url.pathname + url.search,
            status: out.status,
            authorization: req.headers.authorization,
            body,
          });
          const payload = out.raw ?? JSON.stringify(out.body ?? {});
          const ctype = out.raw?.startsWith('<') ? 'application/xml' : 'application/json';
          res.writeHead(out.status, { 'Content-Type': ctype, ...out.headers }).end(payload);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  baseUrl = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    log,
    executions,
    get tokensIssued() {
      return tokensIssued;
    },
    statementState: (id) => current(id)?.state,
    revokeIssuedTokens: () => issued.clear(),
    script(s) {
      script = { ...script, ...s };
      for (const f of s.faults ?? []) faults.push({ ...f, left: f.times ?? 1 });
    },
    async close() {
      for (const st of statements.values()) st.abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsWarehouse) warehouse.close();
    },
  };
}
