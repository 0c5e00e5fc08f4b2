// Snowflake SQL API v2 client: submit a statement with a request id, poll its handle until the HTTP status says it is
// done, read every result partition, cancel. Retries 429/5xx and network errors (a POST is resubmitted with the same
// requestId and retry=true, so a statement that already ran is not run twice) and renews a rejected key-pair JWT once.
import { randomUUID } from 'node:crypto';
import { PipebookError } from '@pipebook/shared';
import type { SnowflakeTokenSource } from './auth.ts';
import { backoffDelay, cancelledError, isNetworkError, isTransientStatus, pollDelay, sleep } from './retry.ts';
import type { SnowflakeRowType } from './values.ts';

export interface SnowflakeClientOptions {
  baseUrl: string;
  auth: SnowflakeTokenSource;
  fetch?: typeof fetch;
  userAgent?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  role?: string;
  timeoutSeconds?: number;
  /** First poll after this, growing by 1.5x up to maxPollMs. */
  firstPollMs?: number;
  maxPollMs?: number;
  /** Attempts for one HTTP call facing 429/5xx/network errors. */
  retryAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
  /** Submit with async=true and poll from the start (default: let the POST wait for quick statements). */
  asyncSubmit?: boolean;
  /** How often a local `running` progress is reported while the submit waits. */
  progressEveryMs?: number;
}

export interface ResultSet {
  code: string;
  statementHandle: string;
  statementStatusUrl: string;
  requestId?: string;
  resultSetMetaData: {
    numRows: number;
    format: string;
    rowType: SnowflakeRowType[];
    partitionInfo: Array<{ rowCount: number; uncompressedSize?: number; compressedSize?: number }>;
  };
  data: (string | null)[][];
}

export interface StatementStatus {
  state: 'running';
  statementHandle: string;
  elapsedMs: number;
}

export interface Partition {
  data: (string | null)[][];
  /** rel -> URL from the Link header (absolute). */
  links: Record<string, string>;
}

interface SnowflakeBody {
  code?: string;
  sqlState?: string;
  message?: string;
  statementHandle?: string;
  statementStatusUrl?: string;
}

/** Parses `<url>; rel="next", <url2>; rel="last"` into { next: url, last: url2 }. */
export function parseLinkHeader(header: string | null, base: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m) out[m[2]] = new URL(m[1], base).toString();
  }
  return out;
}

/** `... error line 3 at position 14 ...` (0-based position) -> 1-based line and column. */
export function parseErrorPosition(message: string): { line: number; column: number } | undefined {
  const m = /line (\d+) at position (\d+)/i.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) + 1 } : undefined;
}

export function statementError(status: number, body: SnowflakeBody): PipebookError {
  const code = body.code ?? String(status);
  const message = body.message ?? `HTTP ${status}`;
  if (code === '000604') return new PipebookError('cancelled', 'The statement was cancelled');
  if (status === 408 || code === '000630')
    return new PipebookError('timeout', `Snowflake stopped the statement at its timeout (${code}): ${message}`);
  const pos = parseErrorPosition(message);
  const detail = `${message}\n(Snowflake error ${code}${body.sqlState ? `, SQL state ${body.sqlState}` : ''})`;
  return new PipebookError('sql_error', detail, pos);
}

export class SnowflakeClient {
  private readonly fetch: typeof fetch;
  private readonly base: string;

  constructor(private readonly opts: SnowflakeClientOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  /**
   * Submits one statement and waits for it (polling with backoff). Resolves with the first result page (partition 0
   * plus metadata for every partition). On abort, cancels the statement on the server and rejects with `cancelled`.
   */
  async run(
    statement: string,
    opts: { signal?: AbortSignal; tag?: string; onStatus?: (s: StatementStatus) => void } = {},
  ): Promise<ResultSet> {
    const { signal } = opts;
    if (signal?.aborted) throw cancelledError();
    const started = Date.now();
    const requestId = randomUUID();
    const body: Record<string, unknown> = { statement, resultSetMetaData: { format: 'jsonv2' } };
    if (this.opts.timeoutSeconds !== undefined) body.timeout = this.opts.timeoutSeconds;
    for (const k of ['warehouse', 'database', 'schema', 'role'] as const) if (this.opts[k]) body[k] = this.opts[k];
    body.parameters = { MULTI_STATEMENT_COUNT: '1', ...(opts.tag ? { QUERY_TAG: opts.tag } : {}) };
    // By default the POST waits on the server (up to 45 s) so a quick statement costs one round trip; progress is
    // reported locally meanwhile. On abort the POST is dropped, and the statement it may have started is found
    // through an idempotent resubmission (same requestId, retry=true, async=true: never runs it twice) and cancelled.
    const asyncSubmit = this.opts.asyncSubmit ?? false;
    const submitAbort = new AbortController();
    const onAbort = () => submitAbort.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const ticker = opts.onStatus
      ? setInterval(
          () => opts.onStatus?.({ state: 'running', statementHandle: '', elapsedMs: Date.now() - started }),
          this.opts.progressEveryMs ?? 500,
        )
      : undefined;
    let first: Awaited<ReturnType<SnowflakeClient['request']>>;
    try {
      first = await this.request(
        'POST',
        `/api/v2/statements?requestId=${requestId}${asyncSubmit ? '&async=true' : ''}`,
        {
          body,
          requestId,
          signal: submitAbort.signal,
        },
      );
    } catch (err) {
      if (signal?.aborted) {
        await this.cancelSubmitted(requestId, body).catch(() => {});
        throw cancelledError();
      }
      throw err;
    } finally {
      clearInterval(ticker);
      signal?.removeEventListener('abort', onAbort);
    }
    let res = first;
    let poll = 0;
    const handle = (res.body as SnowflakeBody).statementHandle;
    while (res.status === 202) {
      if (!handle) throw new PipebookError('internal', 'Snowflake answered 202 without a statement handle');
      opts.onStatus?.({ state: 'running', statementHandle: handle, elapsedMs: Date.now() - started });
      const url = (res.body as SnowflakeBody).statementStatusUrl ?? `/api/v2/statements/${handle}`;
      try {
        await sleep(pollDelay(poll++, this.opts.firstPollMs ?? 20, this.opts.maxPollMs ?? 1000), signal);
        res = await this.request('GET', withParam(url, 'requestId', requestId), { signal });
      } catch (err) {
        if (signal?.aborted) {
          await this.cancel(handle).catch(() => {});
          throw cancelledError();
        }
        throw err;
      }
    }
    if (signal?.aborted) {
      // Finished while we were being cancelled: nothing to cancel remotely, but the caller asked to stop.
      throw cancelledError();
    }
    if (res.status === 200) {
      const rs = res.body as ResultSet;
      if (!rs.resultSetMetaData)
        throw new PipebookError('internal', 'Snowflake answered 200 without resultSetMetaData');
      // 391908: the result is too large and the answer incomplete; a partial result must not pass for a whole one.
      if (rs.code === '391908')
        throw new PipebookError(
          'too_large',
          `Snowflake could not return the whole result (391908): ${(rs as SnowflakeBody).message ?? ''}`.trim(),
        );
      return rs;
    }
    throw statementError(res.status, res.body as SnowflakeBody);
  }

  /** Fetches partition `index` of a finished statement (gzip is decoded by fetch). */
  async partition(rs: ResultSet, index: number, url?: string, signal?: AbortSignal): Promise<Partition> {
    const target =
      url ??
      withParam(
        withParam(
          rs.statementStatusUrl ?? `/api/v2/statements/${rs.statementHandle}`,
          'requestId',
          rs.requestId ?? randomUUID(),
        ),
        'partition',
        String(index),
      );
    const res = await this.request('GET', target, { signal });
    if (res.status !== 200) throw statementError(res.status, res.body as SnowflakeBody);
    const data = (res.body as { data?: (string | null)[][] }).data;
    if (!Array.isArray(data)) throw new PipebookError('internal', `Snowflake partition ${index} has no data`);
    return { data, links: parseLinkHeader(res.headers.get('link'), this.base) };
  }

  /** Cancels whatever statement `requestId` started, learning its handle without running it again. */
  private async cancelSubmitted(requestId: string, body: unknown): Promise<void> {
    const res = await this.request('POST', `/api/v2/statements?requestId=${requestId}&retry=true&async=true`, {
      body,
      requestId,
    });
    const handle = (res.body as SnowflakeBody).statementHandle;
    if (res.status === 202 && handle) await this.cancel(handle);
  }

  /** Asks Snowflake to cancel; an unknown or already finished handle is not an error for us. */
  async cancel(handle: string): Promise<void> {
    const res = await this.request('POST', `/api/v2/statements/${handle}/cancel?requestId=${randomUUID()}`, {});
    if (res.status !== 200 && res.status !== 422) throw statementError(res.status, res.body as SnowflakeBody);
  }

  private async request(
    method: 'GET' | 'POST',
    pathOrUrl: string,
    o: { body?: unknown; requestId?: string; signal?: AbortSignal },
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const attempts = this.opts.retryAttempts ?? 6;
    let renewed = false;
    let retrying = false;
    for (let attempt = 0; ; attempt++) {
      let url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
      if (retrying && o.requestId) url = withParam(url, 'retry', 'true');
      const token = await this.opts.auth.token();
      let res: Response;
      try {
        res = await this.fetch(url, {
          method,
          signal: o.signal,
          headers: {
            Authorization: `Bearer ${token}`,
            'X-Snowflake-Authorization-Token-Type': this.opts.auth.tokenType,
            'User-Agent': this.opts.userAgent ?? 'Pipebook/0.1',
            Accept: 'application/json',
            'Accept-Encoding': 'gzip',
            ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          body: o.body !== undefined ? JSON.stringify(o.body) : method === 'POST' ? '{}' : undefined,
        });
      } catch (err) {
        if (o.signal?.aborted) throw cancelledError();
        if (isNetworkError(err) && attempt + 1 < attempts) {
          retrying = true;
          await sleep(this.delay(attempt), o.signal);
          continue;
        }
        throw new PipebookError('engine_unavailable', `Snowflake is unreachable: ${(err as Error).message}`);
      }
      const text = await res.text();
      let body: unknown = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = { message: text.slice(0, 300) };
      }
      if (res.status === 401) {
        const b = body as SnowflakeBody;
        // A JWT the server no longer accepts (expired, clock skew): sign a new one once.
        if (!renewed && this.opts.auth.tokenType === 'KEYPAIR_JWT') {
          renewed = true;
          await this.opts.auth.token(true);
          attempt--;
          continue;
        }
        throw new PipebookError(
          'unauthorized',
          `Snowflake rejected the credentials (${b.code ?? 401}): ${b.message ?? ''}`.trim(),
        );
      }
      if (isTransientStatus(res.status) && attempt + 1 < attempts) {
        retrying = true;
        await sleep(this.delay(attempt), o.signal);
        continue;
      }
      if (res.status === 429)
        throw new PipebookError(
          'rate_limited',
          `Snowflake is still refusing requests (429) after ${attempts} attempts`,
        );
      if (res.status >= 500 || res.status === 403 || res.status === 404 || res.status === 400 || res.status === 415) {
        const b = body as SnowflakeBody;
        throw new PipebookError(
          'engine_unavailable',
          `Snowflake answered ${res.status}${b.code ? ` (${b.code})` : ''}: ${b.message ?? ''}`.trim(),
        );
      }
      return { status: res.status, body, headers: res.headers };
    }
  }

  private delay(attempt: number): number {
    return backoffDelay(attempt, this.opts.retryBaseMs ?? 200, this.opts.retryMaxMs ?? 8000, this.opts.random);
  }
}

export function withParam(url: string, key: string, value: string): string {
  const re = new RegExp(`([?&])${key}=[^&]*`);
  if (re.test(url)) return url.replace(re, `$1${key}=${encodeURIComponent(value)}`);
  return `${url}${url.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}
