// The run logic with an engine other than the embedded DuckDB: a remote-style engine that streams its rows and
// reports progress (here a stand-in that runs the SQL on its own in-memory DuckDB), registered like the warehouse
// engines are. Its results are stored like DuckDB's and read by DuckDB cells downstream.
import { type ColumnInfo, PipebookError, readRuns, runsMap } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { DuckDBWarehouse } from '../src/engines/duckdb.ts';
import type { Engine, ExecuteOutcome, ExecuteRequest, Row } from '../src/engines/engine.ts';
import { registerEngineFactory } from '../src/engines/registry.ts';
import { createNotebookFrom, finished, newClient, notebookFile, page, runToEnd, withKernel } from './stack.ts';

class StreamingEngine implements Engine {
  readonly info = { name: 'remote', type: 'databricks' as const, dialect: 'duckdb' as const, label: 'Remote stand-in' };
  constructor(private readonly db: DuckDBWarehouse) {}
  async execute(req: ExecuteRequest): Promise<ExecuteOutcome> {
    for (const fraction of [0.25, 0.5, 0.75]) {
      if (req.signal.aborted) throw new PipebookError('cancelled', 'cancelled');
      req.onProgress?.({ state: 'RUNNING', fraction });
      await new Promise((r) => setTimeout(r, 600));
    }
    if (/boom/.test(req.sql)) throw new PipebookError('sql_error', 'remote says no', { line: 1, column: 8 });
    const r = await this.db.readAll(req.sql);
    const columns: ColumnInfo[] = r.columns;
    const rows = r.rowsJs as Row[];
    async function* batches() {
      for (let i = 0; i < rows.length; i += 3) yield rows.slice(i, i + 3);
    }
    return { type: 'stream', columns, batches: batches() };
  }
  async validate(): Promise<ColumnInfo[]> {
    return [];
  }
  async catalog() {
    return [];
  }
  async close() {}
}

let remoteDb: DuckDBWarehouse;
const s = withKernel({
  async before() {
    remoteDb = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [] });
    registerEngineFactory(() => [new StreamingEngine(remoteDb)]);
  },
  after: () => remoteDb?.close(),
});

describe('a streaming engine', () => {
  it('[R6][R7][R12] streams into the result store, shows progress to collaborators, and feeds DuckDB cells', async () => {
    const file = notebookFile([
      { name: 'remote_rows', source: 'SELECT range AS n, range * 10 AS tens FROM range(10)' },
      { name: 'local_sum', source: 'SELECT sum(tens)::BIGINT AS total FROM remote_rows' },
    ]);
    file.cells[0].engine = 'remote';
    const nb = await createNotebookFrom(s, file);
    const client = newClient(s.collab.url, nb);
    await client.synced();
    const fractions: number[] = [];
    runsMap(client.doc).observe(() => {
      const f = readRuns(client.doc).c_remote_rows?.progress?.fraction;
      if (f !== undefined && fractions.at(-1) !== f) fractions.push(f);
    });
    const { created, events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(created.cells.map((c) => [c.cellId, c.engine])).toEqual([
      ['c_remote_rows', 'remote'],
      ['c_local_sum', 'duckdb'],
    ]);
    const progress = events.filter((e) => e.type === 'cell_progress' && e.cellId === 'c_remote_rows');
    expect(
      progress.map((e) => (e.type === 'cell_progress' ? e.fraction : undefined)).filter((f) => f !== undefined),
    ).toEqual([0.25, 0.5, 0.75]);
    // At most one document write per second: reports at 0, 0.6 and 1.2 s reach the document at 0 and 1.2 s.
    expect(fractions).toEqual([0.25, 0.75]);
    expect(finished(events).get('c_remote_rows')).toMatchObject({ status: 'done', rowCount: 10 });
    expect((await page(s, nb, 'c_remote_rows', 'offset=8')).body.rows).toEqual([
      [8, 80],
      [9, 90],
    ]);
    expect((await page(s, nb, 'c_local_sum')).body.rows).toEqual([[450]]);
    expect(readRuns(client.doc).c_remote_rows).toMatchObject({ status: 'done', engine: 'remote', rowCount: 10 });
    client.destroy();
  });

  it('[R9] an error from a remote engine lands on the cell at its own line', async () => {
    const file = notebookFile([{ name: 'bad', source: 'SELECT boom FROM nowhere' }]);
    file.cells[0].engine = 'remote';
    const nb = await createNotebookFrom(s, file);
    const { events } = await runToEnd(s, { notebookId: nb, scope: 'all' });
    expect(finished(events).get('c_bad')).toMatchObject({
      status: 'error',
      error: { code: 'sql_error', message: 'remote says no', cellId: 'c_bad', line: 1, column: 8 },
    });
  });
});
