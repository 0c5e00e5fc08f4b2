// A Snowflake SQL API v2 test server that follows the protocol brief: Bearer + User-Agent required, RS256 key-pair JWTs
// checked against a configured public key (iss/sub format, fingerprint, lifetime <= 1 h, expiry) or OAuth tokens,
// sync wait (45 s by default) versus async=true, 202 while queued/running, 200/422/408 and cancel bodies, multi-statement
// count check with child handles, partitions (lowercase rowType, metadata only in partition 0, gzip from partition 1,
// Link headers), requestId dedupe with retry=true, nullable=false, and scriptable faults and timing.
// SQL runs on DuckDB, so the dialect accepted is DuckDB's; everything on the wire is Snowflake's.
import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { jwtVerify } from 'jose';
import { createWarehouse, type Warehouse, type WarehouseOptions } from '../../contract/warehouse.ts';
import { encodeCell, type RowTypeEntry, rowTypeOf } from './encode.ts';
import {
  fingerprintOf,
  JWT_INVALID,
  lowerKeys,
  normalizeAccountForJwt,
  OAUTH_INVALID,
  splitStatements,
  toSnowflakeError,
} from './protocol.ts';

export { fingerprintOf, normalizeAccountForJwt, splitStatements, toSnowflakeError };

export type SnowflakeRoute = 'submit' | 'poll' | 'partition' | 'cancel';

export interface SnowflakeFault {
  route: SnowflakeRoute | 'any';
  status: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  body?: unknown;
  /** Carry the request out, then answer with the fault (a lost response). */
  processFirst?: boolean;
}

export interface SnowflakeScript {
  faults?: SnowflakeFault[];
  /** Time a statement spends queued, then running before its SQL executes (for statements matching `match`). */
  queuedMs?: number;
  runningMs?: number;
  /** Only statements whose text contains this get the timing above; default all. */
  match?: string;
  /** Rows per result partition. */
  partitionRows?: number;
}

export interface SnowflakeTestServerOptions extends WarehouseOptions {
  host?: string;
  port?: number;
  /** Account and user the key-pair JWT must name (normalised as the protocol says). */
  account?: string;
  user?: string;
  publicKey?: KeyObject | string;
  oauthTokens?: string[];
  /** How long a POST without async=true waits before answering 202 (real: 45 s). */
  syncWaitMs?: number;
  partitionRows?: number;
  /** The server's clock (ms); tests move it to expire tokens. */
  now?: () => number;
  /** Reuse a warehouse instead of creating one. */
  warehouse?: Warehouse;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  retry: boolean;
  requestId?: string;
  authorization?: string;
}

export interface SnowflakeTestServer {
  url: string;
  script(s: SnowflakeScript): void;
  /** Every request answered, in order. */
  log: RequestLogEntry[];
  /** Statements executed on DuckDB (a deduplicated retry does not count). */
  executions: string[];
  /** `iat` of every distinct key-pair JWT accepted. */
  jwtIssuedAt: number[];
  statementState(handle: string): StatementState | undefined;
  /** Statements queued or running now. */
  runningCount(): number;
  close(): Promise<void>;
}

type StatementState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timedout';

interface Statement {
  handle: string;
  requestId: string;
  sql: string;
  createdOn: number;
  state: StatementState;
  nullable: boolean;
  rowType?: RowTypeEntry[];
  partitions?: (string | null)[][][];
  partitionJson?: string[];
  children?: string[];
  error?: { code: string; sqlState: string; message: string };
  done: Promise<void>;
  abort: AbortController;
}

export async function startSnowflakeTestServer(opts: SnowflakeTestServerOptions = {}): Promise<SnowflakeTestServer> {
  const warehouse = opts.warehouse ?? (await createWarehouse(opts));
  const ownsWarehouse = !opts.warehouse;
  const now = opts.now ?? Date.now;
  const publicKey = typeof opts.publicKey === 'string' ? createPublicKey(opts.publicKey) : opts.publicKey;
  const expectedSub =
    opts.account && opts.user ? `${normalizeAccountForJwt(opts.account)}.${opts.user.toUpperCase()}` : undefined;
  const fingerprint = publicKey ? fingerprintOf(publicKey) : undefined;
  const statements = new Map<string, Statement>();
  const byRequestId = new Map<string, string>();
  const log: RequestLogEntry[] = [];
  const executions: string[] = [];
  const jwtIssuedAt: number[] = [];
  const seenJwts = new Set<string>();
  let script: SnowflakeScript = {};
  const faults: Array<SnowflakeFault & { left: number }> = [];

  const timingFor = (sql: string) =>
    !script.match || sql.includes(script.match)
      ? { queuedMs: script.queuedMs ?? 0, runningMs: script.runningMs ?? 0 }
      : { queuedMs: 0, runningMs: 0 };

  async function authenticate(req: http.IncomingMessage): Promise<{ code: string; message: string } | undefined> {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(header);
    if (!m) return { code: '390101', message: 'Authorization header is missing or not a Bearer token.' };
    const token = m[1];
    const declared = String(req.headers['x-snowflake-authorization-token-type'] ?? '').toUpperCase();
    const looksJwt = token.split('.').length === 3;
    const asJwt = declared === 'KEYPAIR_JWT' || (declared === '' && looksJwt && publicKey !== undefined);
    if (!asJwt) return opts.oauthTokens?.includes(token) ? undefined : OAUTH_INVALID;
    if (!publicKey || !expectedSub || !fingerprint) return JWT_INVALID;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(now()),
      });
      if (protectedHeader.typ !== 'JWT') return JWT_INVALID;
      if (payload.sub !== expectedSub || payload.iss !== `${expectedSub}.${fingerprint}`) return JWT_INVALID;
      if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number' || payload.exp - payload.iat > 3600)
        return JWT_INVALID;
      if (!seenJwts.has(token)) {
        seenJwts.add(token);
        jwtIssuedAt.push(payload.iat);
      }
      return undefined;
    } catch {
      return JWT_INVALID;
    }
  }

  function takeFault(route: SnowflakeRoute): SnowflakeFault | undefined {
    const f = faults.find((x) => x.left > 0 && (x.route === route || x.route === 'any'));
    if (!f) return undefined;
    f.left--;
    return f;
  }

  async function execute(st: Statement, timeoutSec: number | undefined): Promise<void> {
    const { queuedMs, runningMs } = timingFor(st.sql);
    const deadline = timeoutSec ? st.createdOn + timeoutSec * 1000 : Number.POSITIVE_INFINITY;
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        if (ms <= 0) return resolve();
        const t = setTimeout(resolve, ms);
        st.abort.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
    const timeout = Number.isFinite(deadline)
      ? setTimeout(() => {
          if (st.state === 'queued' || st.state === 'running') {
            st.state = 'timedout';
            st.error = {
              code: '000630',
              sqlState: '57014',
              message: `Statement reached its statement or warehouse timeout of ${timeoutSec} second(s) and was canceled.`,
            };
            st.abort.abort();
          }
        }, deadline - Date.now())
      : undefined;
    try {
      await wait(queuedMs);
      if (st.abort.signal.aborted) return;
      st.state = 'running';
      await wait(runningMs);
      if (st.abort.signal.aborted) return;
      executions.push(st.sql);
      const result = await warehouse.run(st.sql);
      if (st.abort.signal.aborted) return;
      const rows = result.rows.map((r) => r.map((v) => encodeCell(v, !st.nullable)));
      const size = Math.max(1, script.partitionRows ?? opts.partitionRows ?? 10_000);
      const partitions: (string | null)[][][] = [];
      for (let i = 0; i < rows.length; i += size) partitions.push(rows.slice(i, i + size));
      if (partitions.length === 0) partitions.push([]);
      st.rowType = rowTypeOf(result.columns);
      st.partitions = partitions;
      st.state = 'succeeded';
    } catch (err) {
      if (st.abort.signal.aborted) return;
      st.state = 'failed';
      st.error = toSnowflakeError((err as Error).message);
    } finally {
      if (timeout) clearTimeout(timeout);
    }
  }

  async function runMulti(parent: Statement, parts: string[], timeoutSec: number | undefined): Promise<void> {
    parent.state = 'running';
    parent.children = [];
    for (const sql of parts) {
      const child = newStatement(sql, randomUUID(), parent.nullable);
      parent.children.push(child.handle);
      child.done = execute(child, timeoutSec);
      await child.done;
      if (child.state !== 'succeeded') {
        parent.state = 'failed';
        parent.error = child.error;
        return;
      }
    }
    parent.rowType = rowTypeOf([{ name: 'multiple statement execution', type: { typeId: 17 } as never }]);
    parent.partitions = [[['Multiple statements executed successfully.']]];
    parent.state = 'succeeded';
  }

  function newStatement(sql: string, requestId: string, nullable: boolean): Statement {
    const st: Statement = {
      handle: randomUUID(),
      requestId,
      sql,
      createdOn: Date.now(),
      state: 'queued',
      nullable,
      done: Promise.resolve(),
      abort: new AbortController(),
    };
    statements.set(st.handle, st);
    return st;
  }

  const statusUrl = (st: Statement) => `/api/v2/statements/${st.handle}`;

  function partitionLinks(st: Statement, index: number): string {
    const n = st.partitions?.length ?? 1;
    const u = (i: number) => `<${statusUrl(st)}?requestId=${st.requestId}&partition=${i}>`;
    const links = [`${u(0)}; rel="first"`];
    if (index + 1 < n) links.push(`${u(index + 1)}; rel="next"`);
    if (index > 0) links.push(`${u(index - 1)}; rel="prev"`);
    links.push(`${u(n - 1)}; rel="last"`);
    return links.join(',');
  }

  /** The answer for a statement's current state (HTTP status is the state). */
  function stateResponse(
    st: Statement,
    partition = 0,
  ): { status: number; body?: unknown; rawJson?: string; headers?: Record<string, string>; gzip?: boolean } {
    switch (st.state) {
      case 'queued':
      case 'running':
        return {
          status: 202,
          body: {
            code: '333334',
            message:
              'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
            statementHandle: st.handle,
            statementStatusUrl: statusUrl(st),
          },
        };
      case 'succeeded': {
        const parts = st.partitions ?? [[]];
        if (partition < 0 || partition >= parts.length)
          return {
            status: 422,
            body: {
              code: '000709',
              sqlState: '02000',
              message: `Partition ${partition} not found`,
              statementHandle: st.handle,
            },
          };
        const headers = { Link: partitionLinks(st, partition) };
        if (partition > 0)
          return { status: 200, rawJson: `{"data":${partitionJson(st, partition)}}`, headers, gzip: true };
        return {
          status: 200,
          headers,
          body: {
            resultSetMetaData: {
              numRows: parts.reduce((n, p) => n + p.length, 0),
              format: 'jsonv2',
              partitionInfo: parts.map((p, i) => ({
                rowCount: p.length,
                uncompressedSize: Buffer.byteLength(partitionJson(st, i)),
              })),
              rowType: st.rowType,
              nullable: st.nullable,
            },
            data: parts[0],
            code: '090001',
            statementStatusUrl: statusUrl(st),
            requestId: st.requestId,
            sqlState: '00000',
            statementHandle: st.handle,
            message: 'Statement executed successfully.',
            createdOn: st.createdOn,
            ...(st.children ? { statementHandles: st.children } : {}),
          },
        };
      }
      case 'failed':
      case 'cancelled':
      case 'timedout':
        return {
          status: 422,
          body: { ...st.error, statementHandle: st.handle, createdOn: st.createdOn, statementStatusUrl: statusUrl(st) },
        };
    }
  }

  /** A partition's rows as JSON, serialised once per statement. */
  function partitionJson(st: Statement, i: number): string {
    st.partitionJson ??= [];
    st.partitionJson[i] ??= JSON.stringify(st.partitions?.[i] ?? []);
    return st.partitionJson[i];
  }

  type Answer = {
    status: number;
    body?: unknown;
    /** A body already serialised (result partitions are serialised once and reused). */
    rawJson?: string;
    headers?: Record<string, string>;
    gzip?: boolean;
    route?: SnowflakeRoute;
  };

  async function handle(req: http.IncomingMessage, url: URL, bodyText: string): Promise<Answer> {
    const path = url.pathname;
    const submit = req.method === 'POST' && path === '/api/v2/statements';
    const cancelMatch = /^\/api\/v2\/statements\/([^/]+)\/cancel$/.exec(path);
    const getMatch = /^\/api\/v2\/statements\/([^/]+)$/.exec(path);
    if (!submit && !(cancelMatch && req.method === 'POST') && !(getMatch && req.method === 'GET'))
      return { status: 404, body: { code: '390404', message: 'Not found.' } };
    if (!req.headers['user-agent'])
      return { status: 400, body: { code: '390142', message: 'User-Agent header is required.' } };
    const authError = await authenticate(req);
    if (authError) return { status: 401, body: authError };
    const route: SnowflakeRoute = submit
      ? 'submit'
      : cancelMatch
        ? 'cancel'
        : Number(url.searchParams.get('partition') ?? '0') > 0
          ? 'partition'
          : 'poll';
    const fault = takeFault(route);
    if (fault) {
      // processFirst: the request takes effect and only the answer is lost (what makes retry=true necessary).
      if (fault.processFirst) await serve(url, bodyText, route, req, submit, cancelMatch, getMatch);
      return {
        route,
        status: fault.status,
        body:
          fault.body ??
          (fault.status === 429
            ? { code: '390505', message: 'Too many requests.' }
            : { code: '390500', message: 'Internal error (scripted).' }),
      };
    }
    return serve(url, bodyText, route, req, submit, cancelMatch, getMatch);
  }

  async function serve(
    url: URL,
    bodyText: string,
    route: SnowflakeRoute,
    req: http.IncomingMessage,
    submit: boolean,
    cancelMatch: RegExpExecArray | null,
    getMatch: RegExpExecArray | null,
  ): Promise<Answer> {
    if (submit) {
      const ctype = req.headers['content-type'];
      if (ctype && !/application\/json/i.test(ctype))
        return { route, status: 415, body: { code: '390415', message: 'Unsupported media type.' } };
      if (!bodyText) return { route, status: 405, body: { code: '390405', message: 'Empty request body.' } };
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(bodyText);
      } catch {
        return {
          route,
          status: 400,
          body: { code: '390142', message: 'Incoming request does not contain a valid payload.' },
        };
      }
      if (typeof body.statement !== 'string' || !body.statement.trim())
        return {
          route,
          status: 400,
          body: { code: '390142', message: 'Incoming request does not contain a valid payload.' },
        };
      const requestId = url.searchParams.get('requestId') ?? randomUUID();
      const retry = url.searchParams.get('retry') === 'true';
      const existing = byRequestId.get(requestId);
      if (existing && retry) {
        // Idempotent resubmission: report the statement that already exists, never run it again.
        const st = statements.get(existing)!;
        return { route, ...(await waitAndAnswer(st, url)) };
      }
      const params = lowerKeys((body.parameters ?? {}) as Record<string, unknown>);
      const wanted = params.multi_statement_count === undefined ? 1 : Number(params.multi_statement_count);
      const timeoutSec = typeof body.timeout === 'number' && body.timeout > 0 ? body.timeout : undefined;
      const nullable = url.searchParams.get('nullable') !== 'false';
      let count: number;
      try {
        count = await warehouse.countStatements(body.statement);
      } catch (err) {
        const st = newStatement(body.statement, requestId, nullable);
        byRequestId.set(requestId, st.handle);
        st.state = 'failed';
        st.error = toSnowflakeError((err as Error).message);
        return { route, ...stateResponse(st) };
      }
      const st = newStatement(body.statement, requestId, nullable);
      byRequestId.set(requestId, st.handle);
      if (wanted !== 0 && count !== wanted) {
        st.state = 'failed';
        st.error = {
          code: '000008',
          sqlState: '0A000',
          message: `Actual statement count ${count} did not match the desired statement count ${wanted}.`,
        };
        return { route, ...stateResponse(st) };
      }
      if (count > 1) {
        const parts = splitStatements(body.statement);
        st.done = runMulti(st, parts, timeoutSec);
      } else {
        st.done = execute(st, timeoutSec);
      }
      return { route, ...(await waitAndAnswer(st, url)) };
    }

    const handleId = (cancelMatch ?? getMatch)![1];
    const st = statements.get(handleId);
    if (!st)
      return {
        route,
        status: 422,
        body: {
          code: '000709',
          sqlState: '02000',
          message: `Statement ${handleId} not found`,
          statementHandle: handleId,
        },
      };
    if (cancelMatch) {
      if (st.state === 'queued' || st.state === 'running') {
        st.state = 'cancelled';
        st.error = { code: '000604', sqlState: '57014', message: 'SQL execution canceled' };
        st.abort.abort();
        warehouse.interrupt();
      }
      return {
        route,
        status: 200,
        body: {
          code: '000604',
          sqlState: '57014',
          message: 'SQL execution canceled',
          statementHandle: st.handle,
          statementStatusUrl: statusUrl(st),
        },
      };
    }
    const partition = Number(url.searchParams.get('partition') ?? '0');
    return { route, ...stateResponse(st, partition) };
  }

  async function waitAndAnswer(st: Statement, url: URL) {
    if (url.searchParams.get('async') !== 'true') {
      const syncWait = opts.syncWaitMs ?? 45_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([st.done, new Promise<void>((r) => (timer = setTimeout(r, syncWait)))]);
      clearTimeout(timer);
      if (st.state === 'timedout')
        return { status: 408, body: { ...st.error, statementHandle: st.handle, statementStatusUrl: statusUrl(st) } };
    }
    return stateResponse(st);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      handle(req, url, Buffer.concat(chunks).toString('utf8'))
        .catch(
          (err) =>
            ({ status: 500, body: { code: '390500', message: String((err as Error).message) } }) as Awaited<
              ReturnType<typeof handle>
            >,
        )
        .then((out) => {
          log.push({
            method: req.method ?? '',
            path: url.pathname + url.search,
            status: out.status,
            retry: url.searchParams.get('retry') === 'true',
            requestId: url.searchParams.get('requestId') ?? undefined,
            authorization: req.headers.authorization,
          });
          const json = Buffer.from(out.rawJson ?? JSON.stringify(out.body ?? {}));
          const acceptsGzip = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
          const headers: Record<string, string> = { 'Content-Type': 'application/json', ...out.headers };
          if (out.gzip && acceptsGzip) {
            headers['Content-Encoding'] = 'gzip';
            res.writeHead(out.status, headers).end(gzipSync(json));
          } else {
            res.writeHead(out.status, headers).end(json);
          }
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    log,
    executions,
    jwtIssuedAt,
    statementState: (h) => statements.get(h)?.state,
    runningCount: () => [...statements.values()].filter((st) => st.state === 'queued' || st.state === 'running').length,
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
