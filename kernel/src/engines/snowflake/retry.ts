// Waiting and backing off for the remote engines (Snowflake, Databricks): abortable sleeps and jittered exponential
// delays, so a cancelled run never sits out a backoff.
import { PipebookError } from '@pipebook/shared';

export function cancelledError(): PipebookError {
  return new PipebookError('cancelled', 'The statement was cancelled');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Full-jitter exponential backoff: uniform in [base/2, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(baseMs / 2 + random() * Math.max(0, cap - baseMs / 2));
}

/** Poll interval that grows from `first` to `max` by `factor`: quick statements answer fast, long ones cost few polls. */
export function pollDelay(poll: number, firstMs: number, maxMs: number, factor = 1.5): number {
  return Math.min(maxMs, Math.round(firstMs * factor ** poll));
}

/** Retry-After in seconds (the only form Databricks sends) or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Network failures from fetch (not aborts) are worth a retry; HTTP answers are judged by status. */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && /fetch failed|network|socket|ECONN/i.test(`${err.message} ${String(err.cause)}`);
}
