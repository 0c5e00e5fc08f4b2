// `npm run fake:livy`: a Livy test server on PORT (default 8998) for trying Pipebook's Livy engine by hand.
// LIVY_CSRF=1 turns on the CSRF check, LIVY_BASIC_AUTH=user:password turns on Basic auth, LIVY_BASE_PATH sets a
// Knox-like path prefix. Spark is replaced by the DuckDB/Python stand-in described in docs/spark.md.
import { startLivyServer } from './server.ts';

const auth = process.env.LIVY_BASIC_AUTH?.split(':');
const server = await startLivyServer(
  {
    csrf: process.env.LIVY_CSRF === '1',
    basicAuth: auth && auth.length >= 2 ? { user: auth[0], password: auth.slice(1).join(':') } : undefined,
    basePath: process.env.LIVY_BASE_PATH,
    bootDelaysMs: { notStarted: 300, starting: 1200 },
    statementDurationMs: () => Number(process.env.LIVY_STATEMENT_MS ?? 300),
    seedSql: [
      "CREATE TABLE customers AS SELECT range AS id, 'customer ' || range AS name, ['north','south','east'][1 + range % 3] AS region FROM range(1, 101)",
      'CREATE TABLE orders AS SELECT range AS id, 1 + range % 100 AS customer_id, round(10 + (range * 37 % 500) / 3.0, 2) AS amount FROM range(1, 2001)',
    ],
  },
  { port: Number(process.env.PORT ?? 8998), host: process.env.HOST ?? '127.0.0.1' },
);
console.log(`Livy test server listening on ${server.url}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
