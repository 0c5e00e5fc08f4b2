// Statements that write a target cell's result: the compiled SELECT of its input wrapped in CREATE OR REPLACE TABLE,
// INSERT INTO or (DuckDB) COPY ... TO a file. The SELECT always starts on line 2, so a source map shifts by one line.
import { PipebookError } from '../errors.ts';
import type { Dialect } from './dialect.ts';
import { quoteQualified, stringLiteral } from './quote.ts';
import type { CompiledTarget } from './visual.ts';

/** Lines before the SELECT in a target statement: shift the SELECT's source map by this much. */
export const TARGET_STATEMENT_LINE_OFFSET = 1;

/**
 * The statement that writes `selectSql` to the target. For a file target, pass the path the kernel resolved and
 * checked (`{ ...target, path: absolutePath }`): the path is emitted as a literal, as given.
 */
export function compileTargetStatement(dialect: Dialect, target: CompiledTarget, selectSql: string): string {
  if (target.type === 'table') {
    const name = quoteQualified(dialect, [target.schema, target.table]);
    if (target.mode === 'append') return `INSERT INTO ${name}\n${selectSql}`;
    return `CREATE OR REPLACE TABLE ${name} AS\n${selectSql}`;
  }
  if (dialect !== 'duckdb') {
    throw new PipebookError('bad_request', `Writing files is done by DuckDB; on ${dialect} write to a table instead.`, {
      cellId: target.cellId,
    });
  }
  const options = { csv: 'FORMAT csv, HEADER true', parquet: 'FORMAT parquet', json: 'FORMAT json' }[target.format];
  return `COPY (\n${selectSql}\n) TO ${stringLiteral(dialect, target.path)} (${options})`;
}
