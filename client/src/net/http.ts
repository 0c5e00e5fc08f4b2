// The one place the browser makes HTTP calls: every request carries the auth header, and every failure becomes an
// ApiError with the server's code and message (never a stack trace, never a bare status).
import type { ErrorBody, PipebookErrorCode } from '@pipebook/shared';
import { authHeaders } from './auth.ts';

export class ApiError extends Error {
  readonly code: PipebookErrorCode | 'network';
  readonly status: number;
  readonly body?: ErrorBody;
  constructor(code: PipebookErrorCode | 'network', message: string, status: number, body?: ErrorBody) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

function codeForStatus(status: number): PipebookErrorCode {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too_large';
  if (status === 429) return 'rate_limited';
  return 'internal';
}

/** Servers answer errors as `{ error: { code, message } }` or `{ code, message }`; accept both. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const raw = (body as { error?: unknown })?.error ?? body;
  if (raw && typeof raw === 'object' && typeof (raw as ErrorBody).message === 'string') {
    const b = raw as ErrorBody;
    return new ApiError(b.code ?? codeForStatus(status), b.message, status, b);
  }
  if (typeof raw === 'string' && raw) return new ApiError(codeForStatus(status), raw, status);
  return new ApiError(codeForStatus(status), `Request failed (${status})`, status);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  /** Parse the answer as JSON (default) or hand back the raw Response. */
  raw?: boolean;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError('network', 'The server cannot be reached. Check your connection.', 0);
  }
  if (!res.ok) {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    throw errorFromBody(res.status, body);
  }
  if (opts.raw) return res as unknown as T;
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
