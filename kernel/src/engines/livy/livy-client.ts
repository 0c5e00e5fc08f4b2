// Livy's REST API, thin: one method per endpoint, every request with X-Requested-By (Livy's CSRF filter rejects
// POST/DELETE without it) and Basic auth when configured (LDAP auth, or Apache Knox in front). Livy's failure shapes
// are turned into typed errors here, once: 404 JSON `{msg}`, 500 plain-text IllegalStateException for a session that
// is not running, 400 text or JSON.
import { PipebookError } from '@pipebook/shared';
import { parseJsonLossless } from './spark-code.ts';

export type LivySessionState =
  | 'not_started'
  | 'starting'
  | 'recovering'
  | 'idle'
  | 'busy'
  | 'shutting_down'
  | 'error'
  | 'dead'
  | 'killed'
  | 'success';

/** Why a session in an ended state is gone, in words for the staleness reason. */
export function livyEndReason(sessionId: number | string, state: string): string {
  switch (state) {
    case 'dead':
      return `Livy session ${sessionId} is dead.`;
    case 'killed':
      return `Livy session ${sessionId} was killed.`;
    case 'error':
      return `Livy session ${sessionId} failed (state error).`;
    case 'success':
      return `Livy session ${sessionId} ended.`;
    case 'shutting_down':
      return `Livy session ${sessionId} is shutting down.`;
    default:
      return `Livy session ${sessionId} is ${state}.`;
  }
}

/** States after which the session never runs another statement. */
export const LIVY_ENDED_STATES: ReadonlySet<string> = new Set(['shutting_down', 'error', 'dead', 'killed', 'success']);

export interface LivySession {
  id: number;
  name?: string | null;
  appId?: string | null;
  kind?: string;
  state: LivySessionState;
  appInfo?: { driverLogUrl?: string | null; sparkUiUrl?: string | null };
  log?: string[];
}

export type LivyOutput =
  | { status: 'ok'; execution_count: number; data: Record<string, unknown> }
  | { status: 'error'; execution_count: number; ename: string; evalue: string; traceback: string[] };

export interface LivyStatement {
  id: number;
  code?: string;
  /** `error` is documented but never sent; accepted anyway. */
  state: 'waiting' | 'running' | 'available' | 'error' | 'cancelling' | 'cancelled';
  output: LivyOutput | null;
  progress?: number;
  started?: number;
  completed?: number;
}

/** 404 from Livy: the session (or statement) is unknown. */
export class LivyNotFoundError extends Error {
  constructor(
    readonly what: 'session' | 'statement' | 'other',
    message: string,
  ) {
    super(message);
    this.name = 'LivyNotFoundError';
  }
}

/** 500 `java.lang.IllegalStateException: Session is in state X`: the REPL is not running (yet, or any more). */
export class LivyNotRunningError extends Error {
  constructor(readonly state: string) {
    super(`Livy session is in state ${state}`);
    this.name = 'LivyNotRunningError';
  }
}

export interface LivyClientOptions {
  /** Base URL: `http://host:8998`, or through Knox `https://knox/gateway/<topology>/livy/v1`. */
  url: string;
  auth?: { user: string; password: string };
  /** X-Requested-By value (Livy accepts any). */
  requestedBy?: string;
  /** `doAs` impersonation, sent as a query parameter on every request. */
  doAs?: string;
  requestTimeoutMs?: number;
  /** Connection name for messages. */
  name?: string;
}

export class LivyClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: LivyClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.headers = {
      accept: 'application/json',
      'x-requested-by': opts.requestedBy ?? 'pipebook',
    };
    if (opts.auth) {
      const token = Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64');
      this.headers.authorization = `Basic ${token}`;
    }
  }

  get url(): string {
    return this.base;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let url = this.base + path;
    if (this.opts.doAs) url += (url.includes('?') ? '&' : '?') + `doAs=${encodeURIComponent(this.opts.doAs)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 60_000),
      });
    } catch (e) {
      const err = e as Error;
      const why = err.name === 'TimeoutError' ? 'no answer in time' : ((err.cause as Error)?.message ?? err.message);
      throw new PipebookError('engine_unavailable', `Cannot reach Livy at ${this.base} (${why}).`, { cause: e });
    }
    const text = await res.text();
    if (res.ok) {
      try {
        return (text === '' ? {} : parseJsonLossless(text)) as T;
      } catch {
        throw new PipebookError('engine_unavailable', `Livy at ${this.base} answered ${method} ${path} with non-JSON.`);
      }
    }
    throw this.failure(res.status, text);
  }

  private failure(status: number, text: string): Error {
    const msg = messageOf(text);
    const conn = this.opts.name ? ` (connection ${this.opts.name})` : '';
    switch (status) {
      case 401:
        return new PipebookError('unauthorized', `Livy rejected the credentials${conn}: check the user and password.`);
      case 403:
        return new PipebookError('forbidden', `Livy refused access${conn}: ${msg}`);
      case 404:
        if (/^Session\b/i.test(msg)) return new LivyNotFoundError('session', msg);
        if (/^Statement\b/i.test(msg)) return new LivyNotFoundError('statement', msg);
        return new LivyNotFoundError('other', `Livy has no ${msg || 'such path'}; is ${this.base} a Livy URL?`);
      case 400:
        return new PipebookError('bad_request', `Livy refused the request: ${msg}`);
      default: {
        const state = /IllegalStateException: Session is in state (\w+)/.exec(text);
        if (state) return new LivyNotRunningError(state[1]);
        return new PipebookError('engine_unavailable', `Livy answered HTTP ${status}: ${msg.slice(0, 500)}`);
      }
    }
  }

  createSession(body: Record<string, unknown>): Promise<LivySession> {
    return this.request('POST', '/sessions', body);
  }
  getSession(id: number): Promise<LivySession> {
    return this.request('GET', `/sessions/${id}`);
  }
  getSessionState(id: number): Promise<{ id: number; state: LivySessionState }> {
    return this.request('GET', `/sessions/${id}/state`);
  }
  async deleteSession(id: number): Promise<void> {
    try {
      await this.request('DELETE', `/sessions/${id}`);
    } catch (e) {
      if (!(e instanceof LivyNotFoundError)) throw e;
    }
  }
  listSessions(from = 0, size = 100): Promise<{ from: number; total: number; sessions: LivySession[] }> {
    return this.request('GET', `/sessions?from=${from}&size=${size}`);
  }
  getLog(id: number, from?: number, size = 100): Promise<{ id: number; from: number; total: number; log: string[] }> {
    const q = from === undefined ? `size=${size}` : `from=${from}&size=${size}`;
    return this.request('GET', `/sessions/${id}/log?${q}`);
  }
  submitStatement(id: number, code: string, kind?: string): Promise<LivyStatement> {
    return this.request('POST', `/sessions/${id}/statements`, kind ? { code, kind } : { code });
  }
  getStatement(id: number, statementId: number): Promise<LivyStatement> {
    return this.request('GET', `/sessions/${id}/statements/${statementId}`);
  }
  cancelStatement(id: number, statementId: number): Promise<{ msg: string }> {
    return this.request('POST', `/sessions/${id}/statements/${statementId}/cancel`, {});
  }
}

function messageOf(text: string): string {
  try {
    const j = JSON.parse(text) as { msg?: string; message?: string };
    return j.msg ?? j.message ?? text;
  } catch {
    return text.trim();
  }
}
