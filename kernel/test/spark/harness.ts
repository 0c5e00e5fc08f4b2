// Factories for the Spark tests: a Livy or Databricks test server with an engine pointed at it, and small helpers so
// each test reads like a story.
import { CellId } from '@pipebook/shared';
import { DatabricksClusterEngine } from '../../src/engines/databricks-commands/cluster-engine.ts';
import type { ExecuteOutcome } from '../../src/engines/engine.ts';
import { type LivyConnection, LivyEngine } from '../../src/engines/livy/livy-engine.ts';
import type { SessionLostEvent, SparkCodeKind, SparkStep } from '../../src/engines/livy/spark-types.ts';
import { type CommandServerOptions, startCommandServer } from '../servers/databricks-commands/server.ts';
import { type LivyServerOptions, startLivyServer } from '../servers/livy/server.ts';

export const SEED_SQL = [
  "CREATE TABLE customers AS SELECT range AS id, 'customer ' || range AS name, ['north','south','east'][1 + range % 3] AS region FROM range(1, 31)",
  'CREATE TABLE orders AS SELECT range AS id, 1 + range % 30 AS customer_id, (range * 37) % 500 AS amount FROM range(1, 301)',
];

export async function livyStack(server: LivyServerOptions = {}, conn: Partial<LivyConnection> = {}) {
  const livy = await startLivyServer({ seedSql: SEED_SQL, ...server });
  const engine = new LivyEngine({
    type: 'livy',
    name: 'spark',
    url: livy.url,
    pollMinMs: 5,
    pollMaxMs: 40,
    healthCheckMs: 0,
    ...conn,
  });
  const lost: SessionLostEvent[] = [];
  engine.onSessionLost((e) => lost.push(e));
  return {
    livy,
    engine,
    lost,
    async close() {
      await engine.close();
      await livy.close();
    },
  };
}

export async function databricksStack(opts: Partial<CommandServerOptions> = {}) {
  const server = await startCommandServer({ token: 'dapi-test', seedSql: SEED_SQL, ...opts });
  const engine = new DatabricksClusterEngine({
    type: 'databricks-cluster',
    name: 'cluster',
    host: server.url,
    token: opts.token ?? 'dapi-test',
    clusterId: '0101-120000-pipebook',
    pollMinMs: 5,
    pollMaxMs: 40,
    healthCheckMs: 0,
  });
  const lost: SessionLostEvent[] = [];
  engine.onSessionLost((e) => lost.push(e));
  return {
    server,
    engine,
    lost,
    async close() {
      await engine.close();
      await server.close();
    },
  };
}

export function step(name: string, kind: SparkCodeKind, code: string, inputHash = `${name}:1`): SparkStep {
  return { cellId: CellId.of(`c_${name}`), name, kind, code, inputHash };
}

/** Rows of a streamed result, with bigints as numbers and dates as ISO text so they compare with plain JSON. */
export async function rowsOf(outcome: ExecuteOutcome): Promise<unknown[][]> {
  if (outcome.type !== 'stream') throw new Error('expected a streamed result');
  const rows: unknown[][] = [];
  for await (const batch of outcome.batches) rows.push(...batch);
  return rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v)));
}

/** Waits for a condition with a deadline (the thing waited for happens in another process or on a timer). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const signal = () => new AbortController().signal;
