// The Spark engines as entries of the engine contract suite (kernel/test/contract): Spark SQL against the Livy and
// Databricks Command Execution test servers, whose DuckDB holds the contract warehouse tables. Both are
// CONTRACT_TARGETS entries; they are not REMOTE_TARGETS entries, because these protocols have no result paging, 429
// answers or expiring credentials to exercise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabricksClusterEngine } from '../../src/engines/databricks-commands/cluster-engine.ts';
import { DuckDBWarehouse } from '../../src/engines/duckdb.ts';
import { LivyEngine } from '../../src/engines/livy/livy-engine.ts';
import type { ContractTarget, RemoteHooks } from '../contract/targets.ts';
import { warehouseSetupSql } from '../contract/warehouse.ts';
import { startCommandServer } from '../servers/databricks-commands/server.ts';
import { startLivyServer } from '../servers/livy/server.ts';

const notApplicable = (what: string) => () => {
  throw new Error(`${what} does not apply to Livy`);
};

export const livyTarget: ContractTarget = {
  name: 'livy',
  dialect: 'databricks',
  async start() {
    const slow = new Map<string, number>();
    const server = await startLivyServer({
      seedSql: [warehouseSetupSql()],
      statementDurationMs: (code) => {
        for (const [marker, ms] of slow) if (code.includes(marker)) return ms;
        return 0;
      },
    });
    const engine = new LivyEngine({ type: 'livy', name: 'livy', url: server.url, pollMaxMs: 100, healthCheckMs: 0 });
    const dir = mkdtempSync(path.join(tmpdir(), 'pipebook-contract-livy-'));
    const wh = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [dir] });
    const statements = () => [...server.sessions.values()].flatMap((s) => s.statements);
    const remote: RemoteHooks = {
      slow: (marker, ms) => {
        if (ms > 0) slow.set(marker, ms);
        else slow.delete(marker);
      },
      pageRows: notApplicable('Result paging'),
      refuseNextSubmit: notApplicable('A refused submit'),
      expireCredentials: notApplicable('Credential expiry'),
      credentialsMinted: () => 0,
      executions: () => statements().filter((s) => s.state === 'available').length,
      pageFetches: () => 0,
      polls: () => server.requests.filter((r) => r.method === 'GET' && /\/statements\/\d+$/.test(r.path)).length,
      lastStatementState: () => statements().at(-1)?.state,
      requests: () => server.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
    };
    return {
      engine,
      kernelWarehouse: wh,
      resultDir: dir,
      remote,
      slowSql: () => 'SELECT 1 AS pipebook_slow_marker',
      async close() {
        await engine.close();
        await server.close();
        await wh.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const databricksClusterTarget: ContractTarget = {
  name: 'databricks-cluster',
  dialect: 'databricks',
  async start() {
    const slow = new Map<string, number>();
    const server = await startCommandServer({
      token: 'dapi-contract',
      seedSql: [warehouseSetupSql()],
      commandDurationMs: (code) => {
        for (const [marker, ms] of slow) if (code.includes(marker)) return ms;
        return 0;
      },
    });
    const engine = new DatabricksClusterEngine({
      type: 'databricks-cluster',
      name: 'cluster',
      host: server.url,
      token: 'dapi-contract',
      clusterId: '0101-120000-pipebook',
      pollMaxMs: 100,
      healthCheckMs: 0,
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'pipebook-contract-dbc-'));
    const wh = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [dir] });
    const commands = () => [...server.contexts.values()].flatMap((c) => c.commands);
    const remote: RemoteHooks = {
      slow: (marker, ms) => {
        if (ms > 0) slow.set(marker, ms);
        else slow.delete(marker);
      },
      pageRows: notApplicable('Result paging'),
      refuseNextSubmit: notApplicable('A refused submit'),
      expireCredentials: notApplicable('Credential expiry'),
      credentialsMinted: () => 0,
      executions: () => commands().filter((c) => c.status === 'Finished').length,
      pageFetches: () => 0,
      polls: () => 0,
      lastStatementState: () => commands().at(-1)?.status,
      requests: () => [],
    };
    return {
      engine,
      kernelWarehouse: wh,
      resultDir: dir,
      remote,
      slowSql: () => 'SELECT 1 AS pipebook_slow_marker',
      async close() {
        await engine.close();
        await server.close();
        await wh.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
