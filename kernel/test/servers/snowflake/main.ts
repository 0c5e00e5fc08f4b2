// Starts the Snowflake SQL API v2 test server by hand (`npm run fake:snowflake`) so Pipebook can be tried against it.
// It is a test fixture backed by an in-memory DuckDB with demo tables, not a Snowflake.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSnowflakeTestServer } from './server.ts';

// Optional: a big_numbers table of this many rows (benchmarks) and the page size.
const bigRows = Number(process.env.PIPEBOOK_TEST_BIG_ROWS ?? 0);
const pageRows = process.env.PIPEBOOK_TEST_PAGE_ROWS ? Number(process.env.PIPEBOOK_TEST_PAGE_ROWS) : undefined;
const port = Number(process.env.PORT ?? 5180);
const home = path.resolve(process.env.PIPEBOOK_HOME ?? '.pipebook');
const token = process.env.PIPEBOOK_TEST_SNOWFLAKE_TOKEN ?? 'pipebook-test-oauth-token';
const account = 'pipebook-test';
const user = 'pipebook';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyDir = path.join(home, 'test-servers');
mkdirSync(keyDir, { recursive: true });
const keyFile = path.join(keyDir, 'snowflake_rsa_key.p8');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });

const server = await startSnowflakeTestServer({
  port,
  account,
  user,
  publicKey,
  oauthTokens: [token],
  bigRows,
  partitionRows: pageRows,
});
console.log(`Snowflake SQL API v2 test server (DuckDB inside) on ${server.url}
Tables: customers, orders, products, all_types, numbers.
Key-pair auth: a fresh RSA key for this run was written to ${keyFile}
  export SNOWFLAKE_PRIVATE_KEY="$(cat ${keyFile})"
OAuth auth: export SNOWFLAKE_OAUTH_TOKEN=${token}
Add to ${path.join(home, 'pipebook.config.yaml')}:
engines:
  - name: snowflake-test
    type: snowflake
    account: ${account}
    user: ${user}
    url: ${server.url}
    auth: { type: keypair, privateKeyEnv: SNOWFLAKE_PRIVATE_KEY }`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
