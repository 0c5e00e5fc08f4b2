// Starts the Databricks SQL Statement Execution test server by hand (`npm run fake:databricks`) so Pipebook can be
// tried against it. It is a test fixture backed by an in-memory DuckDB with demo tables, not a Databricks workspace.
import path from 'node:path';
import { startDatabricksTestServer } from './server.ts';

// Optional: a big_numbers table of this many rows (benchmarks) and the page size.
const bigRows = Number(process.env.PIPEBOOK_TEST_BIG_ROWS ?? 0);
const pageRows = process.env.PIPEBOOK_TEST_PAGE_ROWS ? Number(process.env.PIPEBOOK_TEST_PAGE_ROWS) : undefined;
const port = Number(process.env.PORT ?? 5181);
const home = path.resolve(process.env.PIPEBOOK_HOME ?? '.pipebook');
const pat = process.env.PIPEBOOK_TEST_DATABRICKS_TOKEN ?? 'dapi-pipebook-test-token';
const clientId = 'pipebook-test-sp';
const clientSecret = process.env.PIPEBOOK_TEST_DATABRICKS_CLIENT_SECRET ?? 'pipebook-test-client-secret';
const warehouseId = 'pipebook-test-warehouse';

const server = await startDatabricksTestServer({
  port,
  warehouseId,
  pats: [pat],
  oauthClients: [{ clientId, clientSecret }],
  bigRows,
  rowsPerChunk: pageRows,
});
console.log(`Databricks SQL Statement Execution 2.0 test server (DuckDB inside) on ${server.url}
Tables: customers, orders, products, all_types, numbers. Backtick identifiers and * EXCEPT are translated for DuckDB.
PAT: export DATABRICKS_TOKEN=${pat}
OAuth M2M: client id ${clientId}, export DATABRICKS_CLIENT_SECRET=${clientSecret}
Add to ${path.join(home, 'pipebook.config.yaml')}:
engines:
  - name: databricks-test
    type: databricks
    host: ${server.url}
    warehouseId: ${warehouseId}
    auth: { type: pat, tokenEnv: DATABRICKS_TOKEN }`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
