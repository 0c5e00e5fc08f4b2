// DatabricksEngine: the Engine interface over the SQL Statement Execution client. Small results come INLINE; when a
// result is too large to inline (the statement fails with the inline byte limit), it runs again with EXTERNAL_LINKS.
// Chunks stream in order with the next one prefetched while the current one is handed on.

import type { ColumnInfo } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import { type DatabricksConnection, describeConnection, readSecret, type SecretEnv } from '../connections.ts';
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
import { formatElapsed } from '../snowflake/engine.ts';
import { cancelledError } from '../snowflake/retry.ts';
import { probeLimitZero } from '../validate.ts';
import { writeTableTarget } from '../write-target.ts';
import { type DatabricksTokenSource, OAuthM2MTokenSource, PatTokenSource } from './auth.ts';
import {
  DatabricksClient,
  type DatabricksClientOptions,
  type Disposition,
  type ResultData,
  type StatementResponse,
  type StatementState,
} from './client.ts';
import { columnsOf, rowConverter } from './values.ts';

export interface DatabricksEngineDeps {
  env: SecretEnv;
  fetch?: typeof fetch;
  now?: () => number;
  client?: Partial<DatabricksClientOptions>;
}

export function databricksTokenSource(conn: DatabricksConnection, deps: DatabricksEngineDeps): DatabricksTokenSource {
  const auth = conn.auth;
  switch (auth.type) {
    case 'pat':
      return new PatTokenSource(readSecret(deps.env, conn.name, 'auth.tokenEnv', auth.tokenEnv));
    case 'oauth-m2m':
      return new OAuthM2MTokenSource({
        host: conn.host,
        clientId: auth.clientId,
        clientSecret: readSecret(deps.env, conn.name, 'auth.clientSecretEnv', auth.clientSecretEnv),
        fetch: deps.fetch,
        now: deps.now,
      });
  }
}

export function backtick(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

export class DatabricksEngine implements Engine {
  readonly info: EngineInfo;
  readonly client: DatabricksClient;
  readonly auth: DatabricksTokenSource;
  /** Remote cancels still being polled to a terminal state; close() waits for them. */
  readonly pendingCancels = new Set<Promise<StatementState | undefined>>();
  private catalogCache?: { at: number; tables: Promise<CatalogTable[]> };
  private readonly now: () => number;

  constructor(
    private readonly conn: DatabricksConnection,
    deps: DatabricksEngineDeps,
  ) {
    this.info = { name: conn.name, type: 'databricks', dialect: 'databricks', label: describeConnection(conn).label };
    this.now = deps.now ?? Date.now;
    this.auth = databricksTokenSource(conn, deps);
    this.client = new DatabricksClient({
      host: conn.host,
      warehouseId: conn.warehouseId,
      catalog: conn.catalog,
      schema: conn.schema,
      auth: this.auth,
      fetch: deps.fetch,
      waitTimeoutSeconds: conn.waitTimeoutSeconds,
      ...deps.client,
    });
  }

  private async runStatement(
    sql: string,
    req: { signal?: AbortSignal; tag?: string; onProgress?: ExecuteRequest['onProgress'] },
  ): Promise<StatementResponse> {
    const mode = this.conn.disposition ?? 'auto';
    const first: Disposition = mode === 'external_links' ? 'EXTERNAL_LINKS' : 'INLINE';
    const run = (disposition: Disposition) =>
      this.client.run(sql, {
        signal: req.signal,
        disposition,
        tag: req.tag,
        onStatus: (state, ms) => req.onProgress?.({ state, message: `${state.toLowerCase()} · ${formatElapsed(ms)}` }),
        onCancel: (done) => {
          this.pendingCancels.add(done);
          done.finally(() => this.pendingCancels.delete(done));
        },
      });
    try {
      return await run(first);
    } catch (err) {
      // Only in auto mode, and only for the inline size limit: anything else is the user's error.
      if (mode === 'auto' && err instanceof PipebookError && (err as { inlineLimit?: boolean }).inlineLimit)
        return await run('EXTERNAL_LINKS');
      throw err;
    }
  }

  async execute(req: ExecuteRequest): Promise<ExecuteOutcome> {
    const started = Date.now();
    req.onProgress?.({ state: 'submitted', message: 'submitted' });
    const resp = await this.runStatement(req.sql, req);
    const manifest = resp.manifest;
    if (!manifest) throw new PipebookError('internal', 'Databricks answered SUCCEEDED without a manifest');
    const total = manifest.total_row_count ?? 0;
    return {
      type: 'stream',
      columns: columnsOf(manifest.schema.columns),
      batches: this.chunks(resp, req.signal, (rows) =>
        req.onProgress?.({
          state: 'fetching',
          rows,
          fraction: total ? rows / total : 1,
          message: `fetching · ${rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows · ${formatElapsed(Date.now() - started)}`,
        }),
      ),
    };
  }

  /** Rows of one chunk: inline, or behind its pre-signed links (re-fetched once if a link expired). */
  private async chunkRows(id: string, chunk: ResultData, signal: AbortSignal): Promise<(string | null)[][]> {
    if (!chunk.external_links) return chunk.data_array ?? [];
    const rows: (string | null)[][] = [];
    for (const link of chunk.external_links) {
      try {
        rows.push(...(await this.client.external(link, signal)));
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status !== 403 && status !== 404 && status !== 410) throw err;
        const fresh = await this.client.chunk(id, link.chunk_index, undefined, signal);
        for (const l of fresh.external_links ?? []) rows.push(...(await this.client.external(l, signal)));
      }
    }
    return rows;
  }

  private async *chunks(
    resp: StatementResponse,
    signal: AbortSignal,
    onRows: (n: number) => void,
  ): AsyncGenerator<Row[]> {
    const convert = rowConverter(resp.manifest?.schema.columns ?? []);
    const id = resp.statement_id;
    const nextMeta = (c: ResultData): { index: number; link?: string } | undefined => {
      const last = c.external_links?.[c.external_links.length - 1];
      const index = last?.next_chunk_index ?? c.next_chunk_index;
      const link = last?.next_chunk_internal_link ?? c.next_chunk_internal_link;
      return index === undefined && link === undefined ? undefined : { index: index ?? -1, link };
    };
    let rows = 0;
    let chunk: ResultData | undefined = resp.result ?? { data_array: [] };
    let data = this.chunkRows(id, chunk, signal);
    while (chunk) {
      if (signal.aborted) throw cancelledError();
      const meta = nextMeta(chunk);
      // Fetch the next chunk (metadata, then its rows) while this one is converted and consumed.
      const next = meta ? this.client.chunk(id, meta.index, meta.link, signal) : undefined;
      const nextData = next?.then((c) => this.chunkRows(id, c, signal));
      next?.catch(() => {});
      nextData?.catch(() => {});
      const batch = (await data).map(convert);
      rows += batch.length;
      onRows(rows);
      yield batch;
      chunk = next ? await next : undefined;
      if (nextData) data = nextData;
    }
  }

  async validate(sql: string, signal?: AbortSignal): Promise<ColumnInfo[]> {
    const resp = await probeLimitZero((probe) => this.runStatement(probe, { signal }), sql);
    return columnsOf(resp.manifest?.schema.columns ?? []);
  }

  async writeTarget(req: WriteTargetRequest): Promise<TargetOutcome> {
    return writeTableTarget(this.info.name, req, {
      quoteIdent: backtick,
      write: (sql) => this.runStatement(sql, req),
      count: async (sql) => {
        const resp = await this.runStatement(sql, { signal: req.signal });
        return Number(resp.result?.data_array?.[0]?.[0] ?? 0);
      },
    });
  }

  async catalog(signal?: AbortSignal): Promise<CatalogTable[]> {
    const ttl = (this.conn.catalogTtlSeconds ?? 300) * 1000;
    const cached = this.catalogCache;
    if (cached && this.now() - cached.at < ttl) return cached.tables;
    const tables = this.loadCatalog(signal);
    this.catalogCache = { at: this.now(), tables };
    tables.catch(() => {
      if (this.catalogCache?.tables === tables) this.catalogCache = undefined;
    });
    return tables;
  }

  /** Forgets the cached catalog; the next `catalog()` reads information_schema again. */
  refreshCatalog(): void {
    this.catalogCache = undefined;
  }

  private async loadCatalog(signal?: AbortSignal): Promise<CatalogTable[]> {
    const where = this.conn.catalog ? `${backtick(this.conn.catalog)}.` : '';
    const resp = await this.runStatement(
      `SELECT table_catalog, table_schema, table_name, column_name, data_type\nFROM ${where}information_schema.columns\nWHERE lower(table_schema) <> 'information_schema'\nORDER BY table_schema, table_name, ordinal_position`,
      { signal },
    );
    const byTable = new Map<string, CatalogTable>();
    for await (const batch of this.chunks(resp, signal ?? new AbortController().signal, () => {})) {
      for (const [cat, schema, table, column, type] of batch as (string | null)[][]) {
        const key = `${cat}.${schema}.${table}`;
        let t = byTable.get(key);
        if (!t) {
          t = { catalog: cat ?? undefined, schema: schema ?? '', name: table ?? '', columns: [] };
          byTable.set(key, t);
        }
        t.columns.push({ name: column ?? '', type: type ?? '' });
      }
    }
    return [...byTable.values()];
  }

  async close(): Promise<void> {
    this.catalogCache = undefined;
    await Promise.allSettled([...this.pendingCancels]);
  }
}

export function createDatabricksEngine(conn: DatabricksConnection, deps: DatabricksEngineDeps): DatabricksEngine {
  return new DatabricksEngine(conn, deps);
}
