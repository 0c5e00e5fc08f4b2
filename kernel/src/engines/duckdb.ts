// The embedded engine: one DuckDB database file under PIPEBOOK_HOME, reached through a small connection pool.
// Each running query has a connection of its own, so cancelling it (interrupt) stops only that query. Results are
// written by DuckDB straight to Parquet (COPY ... TO), so even a 10M-row result never passes through the Node heap.
import { rm } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type ColumnInfo, PipebookError } from '@pipebook/shared';
import type {
  CatalogTable,
  Engine,
  EngineInfo,
  ExecuteOutcome,
  ExecuteRequest,
  TargetOutcome,
  WriteTargetRequest,
} from './engine.ts';

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export interface WarehouseOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /**
   * Directories SQL may read and write (the data folder, the result store). Everything else on the file system is
   * refused by DuckDB itself, so a SQL cell cannot read_csv('/etc/passwd') either.
   */
  allowedDirectories: string[];
  /** Idle connections kept for reuse. */
  poolSize?: number;
}

/** The DuckDB instance plus the pool every kernel part (engine, result pager, demo data) borrows connections from. */
export class DuckDBWarehouse {
  private idle: DuckDBConnection[] = [];
  /** Connections that report progress (configured before the lock), and those of them not in use. */
  private readonly tracked: Set<DuckDBConnection>;
  private idleTracked: DuckDBConnection[];
  private readonly rechecks = new Set<Promise<void>>();
  private closed = false;
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly poolSize: number,
    tracked: DuckDBConnection[],
  ) {
    this.tracked = new Set(tracked);
    this.idleTracked = [...tracked];
  }

  static async open(opts: WarehouseOptions): Promise<DuckDBWarehouse> {
    // Extension downloads would hang or fail offline; everything needed (parquet, json, icu) is built in.
    const instance = await DuckDBInstance.create(opts.path, {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const setup = await instance.connect();
    const poolSize = opts.poolSize ?? 4;
    // Progress reporting is a per-connection setting that DuckDB refuses to set globally, and nothing can be set once
    // the configuration is locked: the connections that run cells get it now, before the lock, and are kept.
    const tracked: DuckDBConnection[] = [];
    try {
      const dirs = opts.allowedDirectories.map((d) => sqlString(d.endsWith('/') ? d : `${d}/`)).join(', ');
      await setup.run(`SET allowed_directories = [${dirs}]`);
      await setup.run('SET enable_external_access = false');
      for (let i = 0; i < poolSize; i++) {
        const conn = await instance.connect();
        await conn.run('SET enable_progress_bar = true');
        await conn.run('SET enable_progress_bar_print = false');
        tracked.push(conn);
      }
      // Nothing a cell runs may loosen the settings above.
      await setup.run('SET lock_configuration = true');
    } catch (e) {
      for (const c of tracked) c.closeSync();
      throw e;
    } finally {
      setup.closeSync();
    }
    return new DuckDBWarehouse(instance, poolSize, tracked);
  }

  /**
   * A connection from the pool. `progress`: one whose `progress` DuckDB keeps up to date (for runs), when one is free;
   * otherwise any connection, and the run simply reports no progress.
   */
  async acquire(opts: { progress?: boolean } = {}): Promise<DuckDBConnection> {
    if (this.closed) throw new PipebookError('engine_unavailable', 'The embedded warehouse is closed.');
    if (opts.progress) {
      // A cancelled run's connection is being checked: it is back in a moment, and the next run should report too.
      if (this.idleTracked.length === 0 && this.rechecks.size > 0) await Promise.all(this.rechecks);
      const c = this.idleTracked.pop();
      if (c) return c;
    }
    // Short reads (pages, catalog) do not take the progress-reporting connections a run starting now would want.
    return this.idle.pop() ?? (await this.instance.connect());
  }

  /**
   * Returns a connection to the pool. An interrupted or failed plain connection is closed instead of reused; a
   * progress-reporting one is checked first (it cannot be replaced).
   */
  release(conn: DuckDBConnection, reusable = true): void {
    if (this.tracked.has(conn)) {
      // These cannot be replaced once the configuration is locked, so one that failed is checked, not dropped.
      if (this.closed) conn.closeSync();
      else if (reusable) this.idleTracked.push(conn);
      else {
        const check = this.recheck(conn).finally(() => this.rechecks.delete(check));
        this.rechecks.add(check);
      }
      return;
    }
    if (reusable && !this.closed && this.idle.length < this.poolSize) this.idle.push(conn);
    else conn.closeSync();
  }

  private async recheck(conn: DuckDBConnection): Promise<void> {
    try {
      await conn.run('SELECT 1');
      if (this.closed) conn.closeSync();
      else this.idleTracked.push(conn);
    } catch {
      this.tracked.delete(conn);
      conn.closeSync();
    }
  }

  async with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    let ok = false;
    try {
      const out = await fn(conn);
      ok = true;
      return out;
    } finally {
      this.release(conn, ok);
    }
  }

  async run(sql: string): Promise<void> {
    await this.with((c) => c.run(sql));
  }

  /**
   * Small reads only (pages, catalog, metadata): the rows land in the heap. Rows are converted on first use, as JS
   * values (bigint, Date, ...) or as JSON-safe values, so a caller pays only for the form it reads.
   */
  async readAll(
    sql: string,
  ): Promise<{ columns: ColumnInfo[]; readonly rowsJs: unknown[][]; readonly rowsJson: unknown[][] }> {
    const r = await this.with((c) => c.runAndReadAll(sql));
    const names = r.columnNames();
    const types = r.columnTypes();
    let js: unknown[][] | undefined;
    let json: unknown[][] | undefined;
    return {
      columns: names.map((name, i) => ({ name, type: types[i].toString() })),
      get rowsJs() {
        js ??= r.getRowsJS() as unknown[][];
        return js;
      },
      get rowsJson() {
        json ??= r.getRowsJson() as unknown[][];
        return json;
      },
    };
  }

  async describe(sql: string): Promise<ColumnInfo[]> {
    const r = await this.readAll(`DESCRIBE SELECT * FROM (\n${sql}\n)`);
    return r.rowsJson.map((row) => ({ name: String(row[0]), type: String(row[1]) }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.closeSync();
    for (const c of this.idleTracked.splice(0)) c.closeSync();
    this.instance.closeSync();
  }
}

/**
 * DuckDB puts the failing position as `LINE n:` plus a caret line under the offending text. Returns the engine's
 * message without that block, and the 1-based line/column in the SQL that was sent (which the caller maps back).
 */
export function parseDuckDBError(
  message: string,
  sentSql: string,
): { message: string; line?: number; column?: number } {
  const m = /\n\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  const clean = message.replace(/\n\nLINE \d+: [\s\S]*$/, '').trim();
  if (!m) return { message: clean };
  const line = Number(m[1]);
  const shown = m[2];
  const caret = m[3].length - `LINE ${m[1]}: `.length;
  // DuckDB trims long lines around the error ("..."): find the shown snippet in the real line to get the column.
  const actual = sentSql.split('\n')[line - 1] ?? '';
  let column = caret + 1;
  if (shown.startsWith('...')) {
    const snippet = shown.slice(3).replace(/\.\.\.$/, '');
    const at = actual.indexOf(snippet);
    if (at >= 0) column = at + (caret - 3) + 1;
  }
  return { message: clean, line, column };
}

const COPY_PREFIX_LINES = 1;

function wrapError(e: unknown, sentSql: string, userSql: string, signal?: AbortSignal): PipebookError {
  if (e instanceof PipebookError) return e;
  if (signal?.aborted) return new PipebookError('cancelled', 'The query was cancelled.');
  const raw = e instanceof Error ? e.message : String(e);
  if (/^INTERRUPT Error/.test(raw)) return new PipebookError('cancelled', 'The query was cancelled.');
  const parsed = parseDuckDBError(raw, sentSql);
  let line = parsed.line;
  // Positions inside the wrapper statement are shifted back to the user's SQL.
  if (line !== undefined && sentSql !== userSql) line -= COPY_PREFIX_LINES;
  return new PipebookError('sql_error', parsed.message, {
    ...(line !== undefined && line >= 1 ? { line, column: parsed.column } : {}),
    cause: e,
  });
}

function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

export class DuckDBEngine implements Engine {
  readonly info: EngineInfo;
  constructor(
    readonly warehouse: DuckDBWarehouse,
    name = 'duckdb',
  ) {
    this.info = { name, type: 'duckdb', dialect: 'duckdb', label: 'DuckDB (embedded)' };
  }

  /** Runs `sentSql` on a connection of its own, interrupted when `signal` aborts; progress polled while it runs. */
  private async runCancellable<T>(
    userSql: string,
    sentSql: string,
    signal: AbortSignal,
    onProgress: ExecuteRequest['onProgress'],
    fn: (conn: DuckDBConnection) => Promise<T>,
  ): Promise<T> {
    if (signal.aborted) throw new PipebookError('cancelled', 'The query was cancelled.');
    const conn = await this.warehouse.acquire({ progress: !!onProgress });
    const onAbort = () => conn.interrupt();
    signal.addEventListener('abort', onAbort, { once: true });
    let last = -1;
    const poll = onProgress
      ? setInterval(() => {
          const p = conn.progress;
          if (p.percentage >= 0 && p.percentage !== last) {
            last = p.percentage;
            onProgress({ fraction: Math.min(1, p.percentage / 100), rows: Number(p.rows_processed) });
          }
        }, 250)
      : undefined;
    let ok = false;
    try {
      const out = await fn(conn);
      ok = true;
      return out;
    } catch (e) {
      throw wrapError(e, sentSql, userSql, signal);
    } finally {
      if (poll) clearInterval(poll);
      signal.removeEventListener('abort', onAbort);
      this.warehouse.release(conn, ok);
    }
  }

  async execute(req: ExecuteRequest): Promise<ExecuteOutcome> {
    const sql = stripTrailingSemicolons(req.sql);
    // resultPath is fresh for every run and only indexed after success, so a half-written file is never read.
    const sent = `COPY (\n${sql}\n) TO ${sqlString(req.resultPath)} (FORMAT parquet)`;
    try {
      return await this.runCancellable(sql, sent, req.signal, req.onProgress, async (conn) => {
        const r = await conn.runAndReadAll(sent);
        const rowCount = Number(r.getRowsJS()[0]?.[0] ?? 0);
        // Column types as a reader of the Parquet file sees them (what paging returns), from its metadata only.
        const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(req.resultPath)})`);
        const columns = (d.getRowsJson() as unknown[][]).map((row) => ({ name: String(row[0]), type: String(row[1]) }));
        return { type: 'materialized', columns, rowCount };
      });
    } catch (e) {
      await rm(req.resultPath, { force: true });
      throw e;
    }
  }

  async writeTarget(req: WriteTargetRequest): Promise<TargetOutcome> {
    const sql = stripTrailingSemicolons(req.sql);
    const t = req.target;
    let statements: string[];
    if (t.type === 'table') {
      const name = (t.schema ? `${sqlIdent(t.schema)}.` : '') + sqlIdent(t.table);
      const schemaStmt = t.schema ? [`CREATE SCHEMA IF NOT EXISTS ${sqlIdent(t.schema)}`] : [];
      statements =
        t.mode === 'replace'
          ? [...schemaStmt, `CREATE OR REPLACE TABLE ${name} AS (\n${sql}\n)`]
          : [
              ...schemaStmt,
              `CREATE TABLE IF NOT EXISTS ${name} AS SELECT * FROM (\n${sql}\n) LIMIT 0`,
              `INSERT INTO ${name} BY NAME (\n${sql}\n)`,
            ];
    } else {
      const format =
        t.format === 'csv' ? 'FORMAT csv, HEADER true' : t.format === 'json' ? 'FORMAT json' : 'FORMAT parquet';
      statements = [`COPY (\n${sql}\n) TO ${sqlString(t.path)} (${format})`];
    }
    return this.runCancellable(sql, statements[statements.length - 1], req.signal, req.onProgress, async (conn) => {
      let rowCount = 0;
      await conn.run('BEGIN TRANSACTION');
      try {
        for (const s of statements) {
          const r = await conn.runAndReadAll(s);
          if (s === statements[statements.length - 1]) {
            const v = r.getRowsJS()[0]?.[0];
            rowCount = typeof v === 'bigint' || typeof v === 'number' ? Number(v) : 0;
          }
        }
        await conn.run('COMMIT');
      } catch (e) {
        await conn.run('ROLLBACK').catch(() => {});
        throw e;
      }
      return { rowCount };
    });
  }

  async validate(sql: string, signal?: AbortSignal): Promise<ColumnInfo[]> {
    const body = stripTrailingSemicolons(sql);
    const sent = `DESCRIBE SELECT * FROM (\n${body}\n)`;
    return this.runCancellable(body, sent, signal ?? new AbortController().signal, undefined, async (conn) => {
      const r = await conn.runAndReadAll(sent);
      return (r.getRowsJson() as unknown[][]).map((row) => ({ name: String(row[0]), type: String(row[1]) }));
    });
  }

  async catalog(): Promise<CatalogTable[]> {
    const r = await this.warehouse.readAll(
      `SELECT table_schema, table_name, column_name, data_type
       FROM information_schema.columns
       WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', 'pg_catalog')
       ORDER BY table_schema, table_name, ordinal_position`,
    );
    const out: CatalogTable[] = [];
    let cur: CatalogTable | undefined;
    for (const [schema, table, column, type] of r.rowsJson as string[][]) {
      if (!cur || cur.schema !== schema || cur.name !== table) {
        cur = { schema, name: table, columns: [] };
        out.push(cur);
      }
      cur.columns.push({ name: column, type });
    }
    return out;
  }

  async close(): Promise<void> {
    // The warehouse is shared with the result store; whoever opened it closes it.
  }
}
