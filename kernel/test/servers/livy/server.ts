// A Livy REST server that behaves like Apache Livy 0.7/0.8 where a client can tell (docs/shared protocols brief §3):
// integer ids, 201 + Location, scripted session boot (not_started -> starting -> idle, or error/dead), one statement
// at a time per session (busy while it runs), progress, cancel of waiting and running statements, 500 plain-text
// IllegalStateException for sessions that are not running, sql-kind JSON output with a Spark schema, pyspark text
// and tracebacks, CSRF and Basic-auth toggles, /log paging, and session death on demand. Spark itself is replaced by
// the stand-in in ./standin (DuckDB for SQL, a PySpark-like Python REPL).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DuckDBInstance } from '@duckdb/node-api';
import { SparkStandin, stringifySpark } from './standin/spark-standin.ts';
import {
  ACTIVE,
  type LivySessionState,
  parseTtl,
  sessionJson,
  statementJson,
  statementOutput,
  type TestSession,
  type TestStatement,
} from './wire.ts';

export type { LivySessionState, LivyStatementState, TestSession } from './wire.ts';

export interface LivyServerOptions {
  /** livy.server.csrf-protection.enabled */
  csrf?: boolean;
  /** livy.server.auth.type = ldap (HTTP Basic), as behind Knox. */
  basicAuth?: { user: string; password: string };
  /** Path prefix, e.g. `/gateway/sandbox/livy/v1` to look like a Knox topology. */
  basePath?: string;
  /** How long a new session stays in not_started, then in starting. */
  bootDelaysMs?: { notStarted?: number; starting?: number };
  /** Where boot ends: idle (normal), or error/dead (YARN refused the application). */
  bootOutcome?: 'idle' | 'error' | 'dead';
  /** How long a statement runs (its real work runs at once; completion waits until this has elapsed). */
  statementDurationMs?: (code: string, kind: string) => number;
  /** Progress update interval while a statement runs. */
  progressTickMs?: number;
  /** livy.rsc.sql.num-rows */
  sqlNumRows?: number;
  /** Tables every session can read (run once on the shared DuckDB instance). */
  seedSql?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

export interface LivyTestServer {
  url: string;
  port: number;
  /** Mutable: tests change delays and toggles between steps. */
  options: LivyServerOptions;
  sessions: Map<number, TestSession>;
  requests: RecordedRequest[];
  /** Codes of every statement a session received, in order. */
  statementCodes(sessionId: number): string[];
  /** The session dies (YARN killed the driver, OOM, ...). `remove` also forgets it, as Livy does after GC (404). */
  kill(sessionId: number, opts?: { state?: 'dead' | 'killed' | 'error'; remove?: boolean }): void;
  close(): Promise<void>;
}

export async function startLivyServer(
  options: LivyServerOptions = {},
  listen: { port?: number; host?: string } = {},
): Promise<LivyTestServer> {
  const Standin = SparkStandin;
  const instance: DuckDBInstance = await Standin.createInstance(options.seedSql ?? []);
  const sessions = new Map<number, TestSession>();
  const requests: RecordedRequest[] = [];
  let nextSessionId = 0;
  let closed = false;

  const later = (s: TestSession, ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      s.timers.delete(t);
      if (!closed) fn();
    }, ms);
    s.timers.add(t);
  };

  /** Restarts the idle clock: any statement keeps a session alive; an idle one expires after its ttl. */
  const touch = (s: TestSession) => {
    if (s.expiry) clearTimeout(s.expiry);
    s.expiry = undefined;
    if (s.ttlMs === undefined || s.state !== 'idle' || closed) return;
    s.expiry = setTimeout(() => {
      if (!sessions.has(s.id) || s.state !== 'idle') return;
      s.log.push(`INFO InteractiveSession: Session ${s.id} expired (idle for ${s.ttl})`);
      endSession(s, 'dead');
      sessions.delete(s.id);
    }, s.ttlMs);
  };

  const setState = (s: TestSession, state: LivySessionState) => {
    s.state = state;
    s.log.push(`${new Date().toISOString()} INFO InteractiveSession: Session ${s.id} state changed to ${state}`);
  };

  const endSession = (s: TestSession, state: LivySessionState) => {
    if (s.expiry) clearTimeout(s.expiry);
    s.expiry = undefined;
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
    setState(s, state);
    s.running = undefined;
    const standin = s.standin;
    s.standin = undefined;
    void standin?.then((x) => x.close());
  };

  const standinFor = (s: TestSession) => {
    s.standin ??= Standin.open(instance);
    return s.standin;
  };

  async function execute(s: TestSession, st: TestStatement): Promise<unknown> {
    const count = s.executionCount++;
    return statementOutput(await standinFor(s), st, count, options.sqlNumRows ?? 1000);
  }

  function pump(s: TestSession) {
    if (s.running || !ACTIVE.includes(s.state)) return;
    const st = s.statements.find((x) => x.state === 'waiting');
    if (!st) {
      if (s.state === 'busy') s.state = 'idle';
      touch(s);
      return;
    }
    if (s.expiry) clearTimeout(s.expiry);
    s.running = st;
    s.state = 'busy';
    st.state = 'running';
    st.started = Date.now();
    const duration = options.statementDurationMs?.(st.code, st.kind) ?? 0;
    const tick = options.progressTickMs ?? 20;
    let output: unknown;
    let workDone = false;
    const finish = () => {
      if (s.running !== st) return;
      s.running = undefined;
      if (st.state === 'cancelling') {
        st.state = 'cancelled';
        st.output = null;
      } else {
        st.state = 'available';
        st.output = output;
        st.progress = 1;
      }
      st.completed = Date.now();
      s.state = 'idle';
      pump(s);
    };
    const check = () => {
      if (s.running !== st) return;
      const elapsed = Date.now() - st.started;
      if (st.state === 'cancelling') return finish();
      if (workDone && elapsed >= duration) return finish();
      if (duration > 0) st.progress = Math.min(0.99, Math.floor((elapsed / duration) * 100) / 100);
      later(s, tick, check);
    };
    void execute(s, st).then(
      (o) => {
        output = o;
        workDone = true;
        if (duration === 0) check();
      },
      (e) => {
        output = { status: 'error', execution_count: 0, ename: 'Error', evalue: String(e), traceback: [] };
        workDone = true;
        if (duration === 0) check();
      },
    );
    if (duration > 0) later(s, tick, check);
  }

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, `java.lang.RuntimeException: ${(e as Error).message}`);
    });
  });

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = typeof body === 'string' ? body : stringifySpark(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      ...headers,
    });
    res.end(text);
  }

  async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown> | string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    try {
      const v = JSON.parse(text);
      return v && typeof v === 'object' ? v : 'Expected a JSON object';
    } catch (e) {
      return (e as Error).message;
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const base = options.basePath ?? '';
    const record: RecordedRequest = { method, path: url.pathname, headers: req.headers, status: 0 };
    requests.push(record);
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      record.status = status;
      send(res, status, body, headers);
    };
    if (!url.pathname.startsWith(base)) return reply(404, 'Not Found');
    const p = url.pathname.slice(base.length);

    if (options.basicAuth) {
      const expected =
        'Basic ' + Buffer.from(`${options.basicAuth.user}:${options.basicAuth.password}`).toString('base64');
      if (req.headers.authorization !== expected) {
        return reply(401, 'Unauthorized', { 'www-authenticate': 'Basic realm="livy"' });
      }
    }
    if (options.csrf && !['GET', 'HEAD', 'OPTIONS'].includes(method) && req.headers['x-requested-by'] === undefined) {
      return reply(400, 'Missing Required Header for CSRF protection.');
    }
    const owner = options.basicAuth?.user ?? null;
    const parts = p.split('/').filter(Boolean);
    if (parts[0] !== 'sessions') return reply(404, 'Not Found');

    if (parts.length === 1) {
      if (method === 'GET') {
        const all = [...sessions.values()];
        const from = Number(url.searchParams.get('from') ?? 0);
        const size = Number(url.searchParams.get('size') ?? 100);
        return reply(200, { from, total: all.length, sessions: all.slice(from, from + size).map(sessionJson) });
      }
      if (method === 'POST') {
        const body = await readJson(req);
        if (typeof body === 'string') return reply(400, body);
        const kind = typeof body.kind === 'string' ? body.kind : 'shared';
        const s: TestSession = {
          id: nextSessionId++,
          name: typeof body.name === 'string' ? body.name : null,
          kind: kind === 'python' ? 'pyspark' : kind,
          owner,
          proxyUser: typeof body.proxyUser === 'string' ? body.proxyUser : owner,
          state: 'not_started',
          log: ['stdout: ', '\nstderr: '],
          statements: [],
          conf: (body.conf as Record<string, string>) ?? {},
          executionCount: 0,
          timers: new Set(),
          ttl: typeof body.ttl === 'string' ? body.ttl : null,
          ttlMs: parseTtl(body.ttl),
        };
        sessions.set(s.id, s);
        const delays = options.bootDelaysMs ?? {};
        later(s, delays.notStarted ?? 20, () => {
          setState(s, 'starting');
          s.log.push(`INFO Client: Submitting application to ResourceManager (session ${s.id})`);
          later(s, delays.starting ?? 30, () => {
            const outcome = options.bootOutcome ?? 'idle';
            if (outcome !== 'idle') s.log.push('ERROR Client: Application failed 2 times due to AM Container exit');
            setState(s, outcome);
            pump(s);
          });
        });
        return reply(201, sessionJson(s), { location: `${base}/sessions/${s.id}` });
      }
      return reply(405, 'Method Not Allowed');
    }

    const id = Number(parts[1]);
    const s = Number.isInteger(id) ? sessions.get(id) : undefined;
    if (!s) {
      if (method === 'DELETE') return reply(404, { msg: `Session ${parts[1]} already stopped.` });
      return reply(404, { msg: `Session '${parts[1]}' not found.` });
    }

    if (parts.length === 2) {
      if (method === 'GET') return reply(200, sessionJson(s));
      if (method === 'DELETE') {
        endSession(s, 'shutting_down');
        sessions.delete(s.id);
        return reply(200, { msg: 'deleted' });
      }
      return reply(405, 'Method Not Allowed');
    }
    if (parts[2] === 'state' && parts.length === 3) return reply(200, { id: s.id, state: s.state });
    if (parts[2] === 'log' && parts.length === 3) {
      const total = s.log.length;
      const size = Number(url.searchParams.get('size') ?? 100);
      const fromParam = url.searchParams.get('from');
      const from = fromParam === null ? Math.max(0, total - size) : Number(fromParam);
      return reply(200, { id: s.id, from, total, log: s.log.slice(from, from + size) });
    }
    if (parts[2] !== 'statements') return reply(404, 'Not Found');

    const notRunning = () => reply(500, `java.lang.IllegalStateException: Session is in state ${s.state}`);

    if (parts.length === 3) {
      if (!ACTIVE.includes(s.state)) return notRunning();
      if (method === 'GET') {
        const from = Number(url.searchParams.get('from') ?? 0);
        const size = Number(url.searchParams.get('size') ?? 100);
        const list = url.searchParams.get('order') === 'desc' ? [...s.statements].reverse() : s.statements;
        return reply(200, {
          total_statements: s.statements.length,
          statements: list.slice(from, from + size).map(statementJson),
        });
      }
      if (method === 'POST') {
        const body = await readJson(req);
        if (typeof body === 'string') return reply(400, body);
        if (typeof body.code !== 'string') return reply(400, { msg: 'Rejected, Reason: code is required' });
        const kindRaw = typeof body.kind === 'string' ? body.kind : s.kind;
        const kind = kindRaw === 'python' ? 'pyspark' : kindRaw === 'scala' ? 'spark' : kindRaw;
        if (kind === 'shared') return reply(400, { msg: 'Rejected, Reason: Code kind is required' });
        const st: TestStatement = {
          id: s.statements.length,
          code: body.code,
          kind,
          state: 'waiting',
          output: null,
          progress: 0,
          started: 0,
          completed: 0,
        };
        s.statements.push(st);
        // Livy answers before the REPL picks the statement up, so the client always sees it `waiting` first.
        later(s, 0, () => pump(s));
        return reply(201, statementJson(st), { location: `${base}/sessions/${s.id}/statements/${st.id}` });
      }
      return reply(405, 'Method Not Allowed');
    }

    const st = s.statements[Number(parts[3])];
    if (!ACTIVE.includes(s.state)) return notRunning();
    if (!st) return reply(404, { msg: 'Statement not found' });
    if (parts.length === 4 && method === 'GET') return reply(200, statementJson(st));
    if (parts.length === 5 && parts[4] === 'cancel' && method === 'POST') {
      if (st.state === 'waiting') {
        st.state = 'cancelled';
        st.completed = Date.now();
      } else if (st.state === 'running') {
        st.state = 'cancelling';
      }
      return reply(200, { msg: 'canceled' });
    }
    return reply(404, 'Not Found');
  }

  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ''}`,
    port,
    options,
    sessions,
    requests,
    statementCodes: (sessionId) => sessions.get(sessionId)?.statements.map((x) => x.code) ?? [],
    kill(sessionId, opts = {}) {
      const s = sessions.get(sessionId);
      if (!s) return;
      s.log.push('ERROR YarnScheduler: Lost executor driver: Container killed by YARN');
      endSession(s, opts.state ?? 'dead');
      if (opts.remove) sessions.delete(sessionId);
    },
    async close() {
      closed = true;
      for (const s of sessions.values()) endSession(s, 'dead');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      instance.closeSync();
    },
  };
}
