// Databricks SQL Statement Execution API 2.0 client: submit with wait_timeout, poll PENDING/RUNNING to a terminal
// state, read INLINE chunks or EXTERNAL_LINKS (fetched without our Authorization header: they are pre-signed), cancel
// and poll until the statement is really terminal. 429/503 are retried after Retry-After.
import { PipebookError } from '@pipebook/shared';
import { backoffDelay, cancelledError, isNetworkError, parseRetryAfter, pollDelay, sleep } from '../snowflake/retry.ts';
import type { DatabricksTokenSource } from './auth.ts';
import type { DatabricksColumn } from './values.ts';

export type StatementState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';
export type Disposition = 'INLINE' | 'EXTERNAL_LINKS';

export interface ExternalLink {
  chunk_index: number;
  row_offset: number;
  row_count: number;
  byte_count?: number;
  external_link: string;
  expiration?: string;
  http_headers?: Record<string, string>;
  next_chunk_index?: number;
  next_chunk_internal_link?: string;
}

export interface ResultData {
  chunk_index?: number;
  row_offset?: number;
  row_count?: number;
  data_array?: (string | null)[][];
  next_chunk_index?: number;
  next_chunk_internal_link?: string;
  external_links?: ExternalLink[];
}

export interface StatementResponse {
  statement_id: string;
  status: { state: StatementState; error?: { error_code?: string; message?: string }; sql_state?: string };
  manifest?: {
    format: string;
    schema: { column_count: number; columns: DatabricksColumn[] };
    total_chunk_count?: number;
    chunks?: Array<{ chunk_index: number; row_offset: number; row_count: number; byte_count?: number }>;
    total_row_count?: number;
    truncated?: boolean;
  };
  result?: ResultData;
}

export interface DatabricksClientOptions {
  host: string;
  warehouseId: string;
  auth: DatabricksTokenSource;
  catalog?: string;
  schema?: string;
  fetch?: typeof fetch;
  /** Seconds the submit call blocks (0 or 5-50). */
  waitTimeoutSeconds?: number;
  firstPollMs?: number;
  maxPollMs?: number;
  /** Total time spent waiting out 429/503/5xx for one call (the SDK uses 300 s). */
  retryBudgetMs?: number;
  retryBaseMs?: number;
  random?: () => number;
  userAgent?: string;
}

const TERMINAL = new Set<StatementState>(['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED']);

/** `... (line 2, pos 7)` or `; line 2 pos 7` (0-based pos) -> 1-based line and column. */
export function parseSparkPosition(message: string): { line: number; column: number } | undefined {
  const m = /line (\d+),? pos (\d+)/i.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) + 1 } : undefined;
}

/** `ERROR_CODE: message`, JSON `{error_code, message}`, or HTML `<pre>`/`<title>` (what the SDK deserialisers accept). */
export function parseRequestError(status: number, text: string): { errorCode: string; message: string } {
  try {
    const j = JSON.parse(text) as { error_code?: string; message?: string };
    if (j && (j.error_code || j.message))
      return { errorCode: j.error_code ?? String(status), message: j.message ?? '' };
  } catch {}
  const plain = /^([A-Z_]+): (.*)$/s.exec(text.trim());
  if (plain) return { errorCode: plain[1], message: plain[2] };
  const html = /<pre>([\s\S]*?)<\/pre>/i.exec(text) ?? /<title>([\s\S]*?)<\/title>/i.exec(text);
  if (html) return { errorCode: String(status), message: html[1].trim() };
  return { errorCode: String(status), message: text.slice(0, 300) };
}

export function failureError(resp: StatementResponse): PipebookError {
  const err = resp.status.error ?? {};
  const message = err.message ?? 'The statement failed';
  if (err.error_code === 'CANCELLED') return new PipebookError('cancelled', 'The statement was cancelled');
  if (err.error_code === 'DEADLINE_EXCEEDED')
    return new PipebookError('timeout', `Databricks stopped the statement: ${message}`);
  const detail = `${message}\n(Databricks ${err.error_code ?? 'error'}${resp.status.sql_state ? `, SQL state ${resp.status.sql_state}` : ''})`;
  return new PipebookError('sql_error', detail, parseSparkPosition(message));
}

/** Whether a FAILED statement failed only because its result was too large to send INLINE. */
export function isInlineLimitFailure(resp: StatementResponse): boolean {
  return /inline byte limit|disposition=EXTERNAL_LINKS/i.test(resp.status.error?.message ?? '');
}

export class DatabricksClient {
  private readonly fetch: typeof fetch;
  readonly host: string;

  constructor(private readonly opts: DatabricksClientOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.host = opts.host.replace(/\/+$/, '');
  }

  /**
   * Runs one statement to a terminal state and resolves with the SUCCEEDED response (manifest + first chunk).
   * On abort it rejects at once with `cancelled`; the remote cancel (and the poll to a terminal state) goes on in
   * the background and is reported through `onCancel`.
   */
  async run(
    statement: string,
    o: {
      signal?: AbortSignal;
      disposition?: Disposition;
      tag?: string;
      onStatus?: (state: StatementState, elapsedMs: number) => void;
      onCancel?: (done: Promise<StatementState | undefined>) => void;
    } = {},
  ): Promise<StatementResponse> {
    const { signal } = o;
    if (signal?.aborted) throw cancelledError();
    const started = Date.now();
    const body: Record<string, unknown> = {
      statement,
      warehouse_id: this.opts.warehouseId,
      wait_timeout: `${this.opts.waitTimeoutSeconds ?? 5}s`,
      on_wait_timeout: 'CONTINUE',
      disposition: o.disposition ?? 'INLINE',
      format: 'JSON_ARRAY',
    };
    if (this.opts.catalog) body.catalog = this.opts.catalog;
    if (this.opts.schema) body.schema = this.opts.schema;
    if (o.tag) body.query_tags = [{ key: 'pipebook', value: o.tag.slice(0, 128) }];
    // The submit may block for wait_timeout; it is not tied to the signal because only its answer tells us which
    // statement to cancel.
    const submitted = this.json<StatementResponse>('POST', '/api/2.0/sql/statements', { body, retryPost: true });
    const cancelLater = (p: Promise<StatementResponse>) => {
      const done = p
        .then((r) => (TERMINAL.has(r.status.state) ? r.status.state : this.cancel(r.statement_id)))
        .catch(() => undefined);
      o.onCancel?.(done);
    };
    let resp = await raceAbort(submitted, signal, () => cancelLater(submitted));
    let poll = 0;
    while (!TERMINAL.has(resp.status.state)) {
      o.onStatus?.(resp.status.state, Date.now() - started);
      const id = resp.statement_id;
      try {
        await sleep(pollDelay(poll++, this.opts.firstPollMs ?? 25, this.opts.maxPollMs ?? 1000), signal);
        resp = await this.json<StatementResponse>('GET', `/api/2.0/sql/statements/${id}`, { signal });
      } catch (err) {
        if (signal?.aborted) {
          cancelLater(Promise.resolve(resp));
          throw cancelledError();
        }
        throw err;
      }
    }
    switch (resp.status.state) {
      case 'SUCCEEDED':
        if (signal?.aborted) throw cancelledError();
        return resp;
      case 'CANCELED':
        throw cancelledError();
      case 'CLOSED':
        throw new PipebookError(
          'engine_unavailable',
          'Databricks closed the statement before its result was read; run it again',
        );
      case 'FAILED':
        // The engine switches to EXTERNAL_LINKS on this one failure; mark it so it need not re-parse the message.
        throw Object.assign(failureError(resp), { inlineLimit: isInlineLimitFailure(resp) });
      default:
        throw new PipebookError('internal', `Unexpected Databricks state ${resp.status.state}`);
    }
  }

  /** Metadata (and INLINE rows) of chunk `index`, via the internal link when the previous chunk gave one. */
  chunk(statementId: string, index: number, internalLink?: string, signal?: AbortSignal): Promise<ResultData> {
    return this.json<ResultData>(
      'GET',
      internalLink ?? `/api/2.0/sql/statements/${statementId}/result/chunks/${index}`,
      { signal },
    );
  }

  /** Rows behind a pre-signed link: no Authorization header (the storage would reject it), only the link's own headers. */
  async external(link: ExternalLink, signal?: AbortSignal): Promise<(string | null)[][]> {
    let res: Response;
    try {
      res = await this.fetch(link.external_link, { headers: { ...link.http_headers }, signal });
    } catch (err) {
      if (signal?.aborted) throw cancelledError();
      throw new PipebookError('engine_unavailable', `Databricks result link unreachable: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const err = new PipebookError('engine_unavailable', `Databricks result link answered ${res.status}`);
      (err as PipebookError & { status?: number }).status = res.status;
      throw err;
    }
    return (await res.json()) as (string | null)[][];
  }

  /** Requests cancellation and polls until the statement is terminal (a cancel can lose the race to SUCCEEDED). */
  async cancel(statementId: string, deadlineMs = 60_000): Promise<StatementState> {
    await this.json('POST', `/api/2.0/sql/statements/${statementId}/cancel`, { body: {} });
    const until = Date.now() + deadlineMs;
    for (let poll = 0; ; poll++) {
      const r = await this.json<StatementResponse>('GET', `/api/2.0/sql/statements/${statementId}`, {});
      if (TERMINAL.has(r.status.state)) return r.status.state;
      if (Date.now() > until)
        throw new PipebookError('timeout', `Databricks statement ${statementId} did not stop after cancel`);
      await sleep(pollDelay(poll, 25, 1000));
    }
  }

  private async json<T>(
    method: 'GET' | 'POST',
    pathOrUrl: string,
    o: { body?: unknown; signal?: AbortSignal; retryPost?: boolean },
  ): Promise<T> {
    const budget = this.opts.retryBudgetMs ?? 300_000;
    const startedAt = Date.now();
    let refreshed = false;
    // A POST may be repeated only when the server refused it outright (429/503) or it never left: otherwise the
    // statement could run twice (the API has no idempotency key).
    const mayRepeat = method === 'GET' || o.retryPost === true;
    for (let attempt = 0; ; attempt++) {
      const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.host}${pathOrUrl}`;
      const token = await this.opts.auth.token();
      let res: Response;
      try {
        res = await this.fetch(url, {
          method,
          signal: o.signal,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            'User-Agent': this.opts.userAgent ?? 'Pipebook/0.1',
            ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
        });
      } catch (err) {
        if (o.signal?.aborted) throw cancelledError();
        const refused = /ECONNREFUSED/.test(String((err as Error).cause ?? ''));
        if (isNetworkError(err) && (method === 'GET' || refused) && Date.now() - startedAt < budget) {
          await sleep(backoffDelay(attempt, this.opts.retryBaseMs ?? 200, 10_000, this.opts.random), o.signal);
          continue;
        }
        throw new PipebookError('engine_unavailable', `Databricks is unreachable: ${(err as Error).message}`);
      }
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : {}) as T;
      const e = parseRequestError(res.status, text);
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        await this.opts.auth.token(true);
        attempt--;
        continue;
      }
      const transient = res.status === 429 || res.status === 503 || (method === 'GET' && res.status >= 500);
      if (transient && mayRepeat) {
        const after = parseRetryAfter(res.headers.get('retry-after'));
        const wait =
          after ??
          backoffDelay(attempt, this.opts.retryBaseMs ?? 200, Math.min(10, attempt + 1) * 1000, this.opts.random);
        if (Date.now() - startedAt + wait <= budget) {
          await sleep(wait, o.signal);
          continue;
        }
      }
      const msg = `Databricks answered ${res.status} ${e.errorCode}: ${e.message}`;
      if (res.status === 401) throw new PipebookError('unauthorized', msg);
      if (res.status === 403) throw new PipebookError('forbidden', msg);
      if (res.status === 429) throw new PipebookError('rate_limited', msg);
      if (res.status === 400) throw new PipebookError('bad_request', msg);
      throw new PipebookError('engine_unavailable', msg);
    }
  }
}

/** Resolves with `p`, or rejects with `cancelled` as soon as the signal aborts (calling onAbort once). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(cancelledError());
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
