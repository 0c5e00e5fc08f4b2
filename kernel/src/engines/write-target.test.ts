import { PipebookError } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import type { TargetSpec } from './engine.ts';
import { type TableWriteDialect, writeTableTarget } from './write-target.ts';

function recorder(rows = 7, fail?: string) {
  const sent: { kind: 'write' | 'count'; sql: string }[] = [];
  const dialect: TableWriteDialect = {
    quoteIdent: (p) => `"${p.replace(/"/g, '""')}"`,
    write: async (sql) => {
      sent.push({ kind: 'write', sql });
      if (fail && sql.startsWith(fail)) throw new PipebookError('sql_error', 'boom', { line: 2 });
    },
    count: async (sql) => {
      sent.push({ kind: 'count', sql });
      return rows;
    },
  };
  return { sent, dialect };
}

const write = (target: TargetSpec, dialect: TableWriteDialect) =>
  writeTableTarget('wh', { sql: 'SELECT 1 AS a', target, signal: new AbortController().signal }, dialect);

describe('writeTableTarget', () => {
  it('replaces the table in one statement, then counts it', async () => {
    const { sent, dialect } = recorder(3);
    const out = await write({ type: 'table', table: 't', mode: 'replace' }, dialect);
    expect(out).toEqual({ rowCount: 3 });
    expect(sent).toEqual([
      { kind: 'write', sql: 'CREATE OR REPLACE TABLE "t" AS\nSELECT 1 AS a' },
      { kind: 'count', sql: 'SELECT COUNT(*) AS n FROM "t"' },
    ]);
  });

  it('appends by creating the table from the query shape if missing, then inserting', async () => {
    const { sent, dialect } = recorder();
    await write({ type: 'table', schema: 's', table: 'we"ird', mode: 'append' }, dialect);
    expect(sent.map((s) => s.sql)).toEqual([
      'CREATE TABLE IF NOT EXISTS "s"."we""ird" AS SELECT * FROM (\nSELECT 1 AS a\n) AS pipebook_shape LIMIT 0',
      'INSERT INTO "s"."we""ird"\nSELECT 1 AS a',
      'SELECT COUNT(*) AS n FROM "s"."we""ird"',
    ]);
  });

  it('refuses file targets without running anything', async () => {
    const { sent, dialect } = recorder();
    await expect(write({ type: 'file', path: 'x.parquet', format: 'parquet' }, dialect)).rejects.toMatchObject({
      code: 'bad_request',
      message: 'Engine "wh" writes tables only; file targets run on the embedded engine',
    });
    expect(sent).toEqual([]);
  });

  it('stops at the first failing statement and passes its error through unchanged', async () => {
    const { sent, dialect } = recorder(7, 'CREATE TABLE');
    await expect(write({ type: 'table', table: 't', mode: 'append' }, dialect)).rejects.toMatchObject({
      code: 'sql_error',
      message: 'boom',
      line: 2,
    });
    expect(sent).toHaveLength(1);
  });
});
