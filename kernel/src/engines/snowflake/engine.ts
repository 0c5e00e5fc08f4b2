// SnowflakeEngine: the Engine interface over the SQL API v2 client. Results stream in partition by partition (the
// next partition is fetched while the current one is converted and handed on), so a large result never sits whole in
// memory here.

import type { ColumnInfo } from '@pipebook/shared';
import { describeConnection, readSecret, type SecretEnv, type SnowflakeConnection } from '../connections.ts';
import type {
  CatalogTable,
  Engine,
  EngineInfo,
  ExecuteOutcome,
  ExecuteRequest,
  Row,
  TargetOutcome,
  WriteTargetRequest,
} from '../engine.ts';
import { probeLimitZero } from '../validate.ts';
import { writeTableTarget } from '../write-target.ts';
import { KeyPairTokenSource, loadPrivateKey, OAuthTokenSource, type SnowflakeTokenSource } from './auth.ts';
import { type Partition, type ResultSet, SnowflakeClient, type SnowflakeClientOptions } from './client.ts';
import { cancelledError } from './retry.ts';
import { columnsOf, rowConverter } from './values.ts';

export interface SnowflakeEngineDeps {
  env: SecretEnv;
  fetch?: typeof fetch;
  now?: () => number;
  /** Overrides for polling and retry timing (tests, benchmarks). */
  client?: Partial<SnowflakeClientOptions>;
  /** Key-pair JWT lifetime and renewal margin. */
  jwt?: { lifetimeMs?: number; renewBeforeMs?: number };
}

export function snowflakeTokenSource(conn: SnowflakeConnection, deps: SnowflakeEngineDeps): SnowflakeTokenSource {
  const auth = conn.auth;
  switch (auth.type) {
    case 'keypair': {
      const pem = readSecret(deps.env, conn.name, 'auth.privateKeyEnv', auth.privateKeyEnv);
      const pass = auth.passphraseEnv
        ? readSecret(deps.env, conn.name, 'auth.passphraseEnv', auth.passphraseEnv)
        : undefined;
      return new KeyPairTokenSource({
        account: conn.account,
        user: conn.user,
        privateKey: loadPrivateKey(pem, pass),
        now: deps.now,
        ...deps.jwt,
      });
    }
    case 'oauth':
      return new OAuthTokenSource(readSecret(deps.env, conn.name, 'auth.tokenEnv', auth.tokenEnv));
  }
}

export class SnowflakeEngine implements Engine {
  readonly info: EngineInfo;
  readonly client: SnowflakeClient;
  private catalogCache?: { at: number; tables: Promise<CatalogTable[]> };
  private readonly catalogTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly conn: SnowflakeConnection,
    deps: SnowflakeEngineDeps,
  ) {
    const d = describeConnection(conn);
    this.info = { name: conn.name, type: 'snowflake', dialect: 'snowflake', label: d.label };
    this.now = deps.now ?? Date.now;
    this.catalogTtlMs = (conn.catalogTtlSeconds ?? 300) * 1000;
    this.client = new SnowflakeClient({
      baseUrl: conn.url ?? `https://${conn.account}.snowflakecomputing.com`,
      auth: snowflakeTokenSource(conn, deps),
      fetch: deps.fetch,
      warehouse: conn.warehouse,
      database: conn.database,
      schema: conn.schema,
      role: conn.role,
      timeoutSeconds: conn.timeoutSeconds,
      ...deps.client,
    });
  }

  async execute(req: ExecuteRequest): Promise<ExecuteOutcome> {
    const started = Date.now();
    req.onProgress?.({ state: 'submitted', message: 'submitted' });
    const rs = await this.client.run(req.sql, {
      signal: req.signal,
      tag: req.tag,
      onStatus: (s) => req.onProgress?.({ state: s.state, message: `${s.state} · ${formatElapsed(s.elapsedMs)}` }),
    });
    const columns = columnsOf(rs.resultSetMetaData.rowType);
    return {
      type: 'stream',
      columns,
      batches: this.pages(rs, req.signal, (rows) =>
        req.onProgress?.({
          state: 'fetching',
          rows,
          fraction: rs.resultSetMetaData.numRows ? rows / rs.resultSetMetaData.numRows : 1,
          message: `fetching · ${rows.toLocaleString('en-US')} of ${rs.resultSetMetaData.numRows.toLocaleString('en-US')} rows · ${formatElapsed(Date.now() - started)}`,
        }),
      ),
    };
  }

  /** Partition 0 came with the result; the rest are fetched in order, one ahead of the consumer. */
  private async *pages(rs: ResultSet, signal: AbortSignal, onRows: (n: number) => void): AsyncGenerator<Row[]> {
    const convert = rowConverter(rs.resultSetMetaData.rowType);
    const count = Math.max(1, rs.resultSetMetaData.partitionInfo?.length ?? 1);
    let rows = 0;
    let current: Partition = { data: rs.data ?? [], links: {} };
    for (let i = 0; i < count; i++) {
      if (signal.aborted) throw cancelledError();
      const next = i + 1 < count ? this.client.partition(rs, i + 1, current.links.next, signal) : undefined;
      // A prefetch that fails after the consumer stopped must not become an unhandled rejection.
      next?.catch(() => {});
      const batch = current.data.map(convert);
      rows += batch.length;
      onRows(rows);
      yield batch;
      if (next) current = await next;
    }
  }

  async validate(sql: string, signal?: AbortSignal): Promise<ColumnInfo[]> {
    // LIMIT 0 compiles and describes the statement without scanning.
    const rs = await probeLimitZero((probe) => this.client.run(probe, { signal }), sql);
    return columnsOf(rs.resultSetMetaData.rowType);
  }

  async writeTarget(req: WriteTargetRequest): Promise<TargetOutcome> {
    return writeTableTarget(this.info.name, req, {
      quoteIdent,
      write: (sql) =>
        this.client.run(sql, {
          signal: req.signal,
          onStatus: (s) => req.onProgress?.({ state: s.state, message: `${s.state} · ${formatElapsed(s.elapsedMs)}` }),
        }),
      count: async (sql) => {
        const rs = await this.client.run(sql, { signal: req.signal });
        return Number(rs.data?.[0]?.[0] ?? 0);
      },
    });
  }

  async catalog(signal?: AbortSignal): Promise<CatalogTable[]> {
    const cached = this.catalogCache;
    if (cached && this.now() - cached.at < this.catalogTtlMs) return cached.tables;
    const tables = this.loadCatalog(signal);
    this.catalogCache = { at: this.now(), tables };
    tables.catch(() => {
      if (this.catalogCache?.tables === tables) this.catalogCache = undefined;
    });
    return tables;
  }

  /** Forgets the cached catalog; the next `catalog()` reads INFORMATION_SCHEMA again. */
  refreshCatalog(): void {
    this.catalogCache = undefined;
  }

  private async loadCatalog(signal?: AbortSignal): Promise<CatalogTable[]> {
    const db = this.conn.database ? `${quoteIdent(this.conn.database)}.` : '';
    const rs = await this.client.run(
      `SELECT table_catalog, table_schema, table_name, column_name, data_type\nFROM ${db}information_schema.columns\nWHERE table_schema <> 'INFORMATION_SCHEMA' AND lower(table_schema) <> 'information_schema'\nORDER BY table_schema, table_name, ordinal_position`,
      { signal },
    );
    const rows: (string | null)[][] = [...rs.data];
    for (let i = 1; i < (rs.resultSetMetaData.partitionInfo?.length ?? 1); i++)
      rows.push(...(await this.client.partition(rs, i, undefined, signal)).data);
    const byTable = new Map<string, CatalogTable>();
    for (const [cat, schema, table, column, type] of rows) {
      const key = `${cat}.${schema}.${table}`;
      let t = byTable.get(key);
      if (!t) {
        t = { catalog: cat ?? undefined, schema: schema ?? '', name: table ?? '', columns: [] };
        byTable.set(key, t);
      }
      t.columns.push({ name: column ?? '', type: type ?? '' });
    }
    return [...byTable.values()];
  }

  async close(): Promise<void> {
    this.catalogCache = undefined;
  }
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export function formatElapsed(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function createSnowflakeEngine(conn: SnowflakeConnection, deps: SnowflakeEngineDeps): SnowflakeEngine {
  return new SnowflakeEngine(conn, deps);
}
