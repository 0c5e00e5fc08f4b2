// The table write the warehouses share: `replace` is one CREATE OR REPLACE ... AS, `append` first creates the table
// from the query's shape (LIMIT 0) if it is missing and then INSERTs, and the outcome is a COUNT(*) of the table
// afterwards. Engines differ only in how an identifier is quoted and how a statement runs and reports progress.
import { PipebookError } from '@pipebook/shared';
import type { TargetOutcome, WriteTargetRequest } from './engine.ts';

export interface TableWriteDialect {
  /** Quotes one part (schema or table) of the target's name. */
  quoteIdent(part: string): string;
  /** Runs one CREATE or INSERT of the write, with the request's signal and progress reporting. */
  write(sql: string): Promise<unknown>;
  /** Runs the `SELECT COUNT(*) AS n` statement and returns n. */
  count(sql: string): Promise<number>;
}

export function tableWriteStatements(name: string, mode: 'replace' | 'append', sql: string): string[] {
  return mode === 'replace'
    ? [`CREATE OR REPLACE TABLE ${name} AS\n${sql}`]
    : [
        `CREATE TABLE IF NOT EXISTS ${name} AS SELECT * FROM (\n${sql}\n) AS pipebook_shape LIMIT 0`,
        `INSERT INTO ${name}\n${sql}`,
      ];
}

/** Writes `req` to its table target; a file target is a bad request, since only the embedded engine writes files. */
export async function writeTableTarget(
  engineName: string,
  req: WriteTargetRequest,
  dialect: TableWriteDialect,
): Promise<TargetOutcome> {
  const t = req.target;
  if (t.type !== 'table')
    throw new PipebookError(
      'bad_request',
      `Engine "${engineName}" writes tables only; file targets run on the embedded engine`,
    );
  const name = [t.schema, t.table]
    .filter(Boolean)
    .map((p) => dialect.quoteIdent(p as string))
    .join('.');
  for (const statement of tableWriteStatements(name, t.mode, req.sql)) await dialect.write(statement);
  return { rowCount: await dialect.count(`SELECT COUNT(*) AS n FROM ${name}`) };
}
