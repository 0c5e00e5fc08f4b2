// Errors that cross process edges carry only a code from this closed union and a message a user can act on.
export type PipebookErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'invalid_name'
  | 'duplicate_name'
  | 'unknown_reference'
  | 'cycle'
  | 'invalid_config'
  | 'invalid_file'
  | 'path_outside_data'
  | 'sql_error'
  | 'engine_unavailable'
  | 'cancelled'
  | 'timeout'
  | 'blocked'
  | 'internal';

export class PipebookError extends Error {
  readonly code: PipebookErrorCode;
  /** Cell the error belongs to, with a 1-based line/column in that cell's own source, when known. */
  readonly cellId?: string;
  readonly line?: number;
  readonly column?: number;
  constructor(
    code: PipebookErrorCode,
    message: string,
    where?: { cellId?: string; line?: number; column?: number; cause?: unknown },
  ) {
    super(message, where?.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'PipebookError';
    this.code = code;
    this.cellId = where?.cellId;
    this.line = where?.line;
    this.column = where?.column;
  }
  toJSON(): ErrorBody {
    return { code: this.code, message: this.message, cellId: this.cellId, line: this.line, column: this.column };
  }
}

/** The only error shape sent over HTTP, WebSocket or SSE: never a stack trace. */
export interface ErrorBody {
  code: PipebookErrorCode;
  message: string;
  cellId?: string;
  line?: number;
  column?: number;
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(x)}`);
}
