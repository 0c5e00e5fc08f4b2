// The engines the contract suite runs, one entry each. An entry starts its engine (and, for a remote engine, its test
// server) and says how to make the protocol misbehave. A new engine (e.g. Livy) joins by adding one entry here.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import { DatabricksEngine } from '../../src/engines/databricks/engine.ts';
import { DuckDBEngine, DuckDBWarehouse } from '../../src/engines/duckdb.ts';
import type { Engine } from '../../src/engines/engine.ts';
import { SnowflakeEngine } from '../../src/engines/snowflake/engine.ts';
import { type DatabricksTestServer, startDatabricksTestServer } from '../servers/databricks/server.ts';
import { type SnowflakeTestServer, startSnowflakeTestServer } from '../servers/snowflake/server.ts';
import { databricksClusterTarget, livyTarget } from '../spark/livy-contract-target.ts';
import { warehouseSetupSql } from './warehouse.ts';

/** A clock tests can move forward; engines and test servers read the same one. */
export class TestClock {
  offset = 0;
  now = (): number => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

/** How a test makes a remote protocol misbehave and observes what happened on the wire. */
export interface RemoteHooks {
  /** Statements containing `marker` spend `ms` queued/pending then running before they execute. */
  slow(marker: string, ms: number): void;
  /** Rows per result partition (Snowflake) or chunk (Databricks). */
  pageRows(rows: number): void;
  /** The next submit is refused with this status. */
  refuseNextSubmit(status: 429 | 503): void;
  /** Moves engine and server clocks past the credential's lifetime. */
  expireCredentials(): void;
  /** Credentials minted so far (distinct JWTs signed, OAuth tokens issued); PATs and OAuth access tokens: undefined. */
  credentialsMinted(): number;
  /** Statements the server executed on DuckDB. */
  executions(): number;
  /** Result pages fetched beyond the first response. */
  pageFetches(): number;
  /** Status polls made. */
  polls(): number;
  /** Server-side state of the last statement submitted. */
  lastStatementState(): string | undefined;
  /** Every request the server answered, as `METHOD path status`. */
  requests(): string[];
}

export interface StartedEngine {
  engine: Engine;
  /** The kernel's own DuckDB (results are written to Parquet here; for the DuckDB entry it is also the engine). */
  kernelWarehouse: DuckDBWarehouse;
  resultDir: string;
  remote?: RemoteHooks;
  /** SQL that keeps the engine busy long enough to cancel it. */
  slowSql(): string;
  close(): Promise<void>;
}

export interface ContractTarget {
  name: string;
  dialect: Dialect;
  start(): Promise<StartedEngine>;
}

async function kernelWarehouse(withTables: boolean): Promise<{ wh: DuckDBWarehouse; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipebook-contract-'));
  const wh = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [dir] });
  if (withTables) await wh.run(warehouseSetupSql());
  return { wh, dir };
}

const duckdbTarget: ContractTarget = {
  name: 'duckdb',
  dialect: 'duckdb',
  async start() {
    const { wh, dir } = await kernelWarehouse(true);
    return {
      engine: new DuckDBEngine(wh),
      kernelWarehouse: wh,
      resultDir: dir,
      // A cross join DuckDB needs many seconds for; interrupt stops it.
      slowSql: () => 'SELECT count(*) AS n FROM range(200000000) a, range(100) b WHERE a.range % 7 = b.range',
      async close() {
        await wh.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const snowflakeTarget: ContractTarget = {
  name: 'snowflake',
  dialect: 'snowflake',
  async start() {
    const clock = new TestClock();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server: SnowflakeTestServer = await startSnowflakeTestServer({
      account: 'pipebook-test.us-east-1',
      user: 'contract_user',
      publicKey,
      now: clock.now,
      // Real Snowflake holds a POST up to 45 s; 300 ms sends long statements to 202 + polling in a quick test.
      syncWaitMs: 300,
    });
    const engine = new SnowflakeEngine(
      {
        name: 'snow',
        type: 'snowflake',
        account: 'pipebook-test.us-east-1',
        user: 'contract_user',
        url: server.url,
        warehouse: 'COMPUTE_WH',
        auth: { type: 'keypair', privateKeyEnv: 'CONTRACT_SNOWFLAKE_KEY' },
      },
      {
        env: { CONTRACT_SNOWFLAKE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
        now: clock.now,
        client: { retryBaseMs: 20, maxPollMs: 200 },
      },
    );
    const { wh, dir } = await kernelWarehouse(false);
    const lastHandle = () => {
      for (let i = server.log.length - 1; i >= 0; i--) {
        const m = /^\/api\/v2\/statements\/([^/?]+)/.exec(server.log[i].path);
        if (m) return m[1];
      }
      return undefined;
    };
    return {
      engine,
      kernelWarehouse: wh,
      resultDir: dir,
      slowSql: () => 'SELECT 1 AS pipebook_slow_marker',
      remote: {
        slow: (marker, ms) =>
          server.script({ match: marker, queuedMs: Math.round(ms / 4), runningMs: ms - Math.round(ms / 4) }),
        pageRows: (rows) => server.script({ partitionRows: rows }),
        refuseNextSubmit: (status) => server.script({ faults: [{ route: 'submit', status }] }),
        expireCredentials: () => clock.advance(61 * 60_000),
        credentialsMinted: () => server.jwtIssuedAt.length,
        executions: () => server.executions.length,
        pageFetches: () => server.log.filter((l) => /[?&]partition=[1-9]/.test(l.path)).length,
        polls: () => server.log.filter((l) => l.method === 'GET' && !/partition=/.test(l.path)).length,
        lastStatementState: () => {
          const h = lastHandle();
          return h ? server.statementState(h) : undefined;
        },
        requests: () => server.log.map((l) => `${l.method} ${l.path} ${l.status}`),
      },
      async close() {
        await engine.close();
        await server.close();
        await wh.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const databricksTarget: ContractTarget = {
  name: 'databricks',
  dialect: 'databricks',
  async start() {
    const clock = new TestClock();
    const server: DatabricksTestServer = await startDatabricksTestServer({
      oauthClients: [{ clientId: 'contract-sp', clientSecret: 'contract-secret-value-123' }],
      now: clock.now,
      // wait_timeout 5 s is the API's minimum blocking wait; a tenth of it keeps polling tests quick.
      waitScale: 0.1,
      inlineByteLimit: 200_000,
    });
    const engine = new DatabricksEngine(
      {
        name: 'dbx',
        type: 'databricks',
        host: server.url,
        warehouseId: 'pipebook-test-warehouse',
        auth: { type: 'oauth-m2m', clientId: 'contract-sp', clientSecretEnv: 'CONTRACT_DBX_SECRET' },
        waitTimeoutSeconds: 5,
      },
      {
        env: { CONTRACT_DBX_SECRET: 'contract-secret-value-123' },
        now: clock.now,
        client: { retryBaseMs: 20, maxPollMs: 200 },
      },
    );
    const { wh, dir } = await kernelWarehouse(false);
    const lastId = () => {
      for (let i = server.log.length - 1; i >= 0; i--) {
        const m = /^\/api\/2\.0\/sql\/statements\/([^/?]+)/.exec(server.log[i].path);
        if (m) return m[1];
      }
      return undefined;
    };
    return {
      engine,
      kernelWarehouse: wh,
      resultDir: dir,
      slowSql: () => 'SELECT 1 AS pipebook_slow_marker',
      remote: {
        slow: (marker, ms) =>
          server.script({ match: marker, pendingMs: Math.round(ms / 4), runningMs: ms - Math.round(ms / 4) }),
        pageRows: (rows) => server.script({ rowsPerChunk: rows }),
        refuseNextSubmit: (status) => server.script({ faults: [{ route: 'submit', status, retryAfter: 1 }] }),
        expireCredentials: () => clock.advance(61 * 60_000),
        credentialsMinted: () => server.tokensIssued,
        executions: () => server.executions.length,
        pageFetches: () => server.log.filter((l) => /\/result\/chunks\//.test(l.path)).length,
        polls: () =>
          server.log.filter((l) => l.method === 'GET' && /^\/api\/2\.0\/sql\/statements\/[^/]+$/.test(l.path)).length,
        lastStatementState: () => {
          const id = lastId();
          return id ? server.statementState(id) : undefined;
        },
        requests: () => server.log.map((l) => `${l.method} ${l.path} ${l.status}`),
      },
      async close() {
        await engine.close();
        await server.close();
        await wh.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

// Livy and the Databricks cluster (Command Execution) engine are defined with their engines (kernel/test/spark); their
// protocols have no result paging, 429 answers or expiring credentials, so they are not protocol (REMOTE_TARGETS) entries.
export const CONTRACT_TARGETS: ContractTarget[] = [
  duckdbTarget,
  snowflakeTarget,
  databricksTarget,
  livyTarget,
  databricksClusterTarget,
];
export const REMOTE_TARGETS = [snowflakeTarget, databricksTarget];
