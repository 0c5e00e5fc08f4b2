// Every HTTP error leaves as `{ error: { code, message } }` with the status its code implies; never a stack trace.
import { type ErrorBody, PipebookError, type PipebookErrorCode } from '@pipebook/shared';
import type { NextFunction, Request, Response } from 'express';

export function statusOf(code: PipebookErrorCode): number {
  switch (code) {
    case 'bad_request':
    case 'invalid_name':
    case 'invalid_file':
    case 'invalid_config':
    case 'duplicate_name':
    case 'unknown_reference':
    case 'cycle':
    case 'path_outside_data':
    case 'sql_error':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'blocked':
      return 409;
    case 'too_large':
      return 413;
    case 'rate_limited':
      return 429;
    case 'engine_unavailable':
      return 503;
    case 'timeout':
      return 504;
    case 'cancelled':
      return 499;
    case 'internal':
      return 500;
    default: {
      const never: never = code;
      return never;
    }
  }
}

export function sendError(res: Response, code: PipebookErrorCode, message: string): void {
  const body: { error: ErrorBody } = { error: { code, message } };
  res.status(statusOf(code)).json(body);
}

export function errorMiddleware(log: { error(msg: string, e?: unknown): void }) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof PipebookError) {
      sendError(res, err.code, err.message);
      return;
    }
    // body-parser errors carry an HTTP status and a type.
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.too.large') sendError(res, 'too_large', 'Request body too large');
    else if (e.type === 'entity.parse.failed') sendError(res, 'bad_request', 'Request body is not valid JSON');
    else if (e.status && e.status >= 400 && e.status < 500) sendError(res, 'bad_request', e.message ?? 'Bad request');
    else {
      log.error('request failed', err);
      sendError(res, 'internal', 'Internal error');
    }
  };
}
