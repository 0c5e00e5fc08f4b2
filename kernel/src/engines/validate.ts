// The cheap validation the warehouses share: wrap a statement in `SELECT * FROM (...) LIMIT 0`, which compiles and
// describes it without scanning, and map error lines back past the one line the wrapper adds.
import { PipebookError } from '@pipebook/shared';

export function limitZeroStatement(sql: string): string {
  return `SELECT * FROM (\n${sql}\n) AS pipebook_validate LIMIT 0`;
}

/** Runs a limitZeroStatement probe; an error's line is moved back to the caller's statement. */
export async function probeLimitZero<T>(run: (probe: string) => Promise<T>, sql: string): Promise<T> {
  try {
    return await run(limitZeroStatement(sql));
  } catch (err) {
    if (err instanceof PipebookError && err.line !== undefined)
      throw new PipebookError(err.code, err.message, { line: Math.max(1, err.line - 1), column: err.column });
    throw err;
  }
}
