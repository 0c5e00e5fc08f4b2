// `npx tsx kernel/test/servers/databricks-commands/main.ts`: a Databricks Command Execution API 1.2 test server on
// PORT (default 8999) for trying the databricks-cluster engine by hand. DATABRICKS_TOKEN sets the accepted token
// (default dapi-local), the cluster id is 0101-120000-pipebook. Spark is the stand-in described in docs/spark.md.
import { startCommandServer } from './server.ts';

const server = await startCommandServer(
  {
    token: process.env.DATABRICKS_TOKEN ?? 'dapi-local',
    contextBootMs: 1500,
    commandDurationMs: () => Number(process.env.COMMAND_MS ?? 200),
    seedSql: [
      "CREATE TABLE customers AS SELECT range AS id, 'customer ' || range AS name, ['north','south','east'][1 + range % 3] AS region FROM range(1, 101)",
      'CREATE TABLE orders AS SELECT range AS id, 1 + range % 100 AS customer_id, round(10 + (range * 37 % 500) / 3.0, 2) AS amount FROM range(1, 2001)',
    ],
  },
  { port: Number(process.env.PORT ?? 8999), host: process.env.HOST ?? '127.0.0.1' },
);
console.log(`Databricks Command Execution test server listening on ${server.url} (cluster 0101-120000-pipebook)`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
