import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PipebookError } from '@pipebook/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectionEngines,
  loadConnectionsConfig,
  parseConnectionsConfig,
  readSecret,
  UnavailableEngine,
} from './connections.ts';
import { DatabricksEngine } from './databricks/engine.ts';
import { SnowflakeEngine } from './snowflake/engine.ts';

const YAML = `
engines:
  - name: snow
    type: snowflake
    account: myorg-analytics
    user: pipebook_svc
    warehouse: COMPUTE_WH
    database: ANALYTICS
    auth:
      type: keypair
      privateKeyEnv: SNOWFLAKE_PRIVATE_KEY
  - name: lakehouse
    type: databricks
    host: https://adb-123.4.azuredatabricks.net
    warehouseId: abc123
    catalog: main
    auth:
      type: oauth-m2m
      clientId: 7d3c-sp
      clientSecretEnv: DATABRICKS_CLIENT_SECRET
`;

const dirs: string[] = [];
function home(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipebook-conn-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function errorOf(f: () => unknown): PipebookError {
  try {
    f();
  } catch (e) {
    if (e instanceof PipebookError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('connections config', () => {
  it('reads engines from pipebook.config.yaml', () => {
    const cfg = loadConnectionsConfig(home({ 'pipebook.config.yaml': YAML }));
    expect(cfg.engines.map((e) => [e.name, e.type])).toEqual([
      ['snow', 'snowflake'],
      ['lakehouse', 'databricks'],
    ]);
    expect(cfg.file?.endsWith('pipebook.config.yaml')).toBe(true);
  });

  it('reads the JSON form too, and no file means no remote engines', () => {
    const json = JSON.stringify({
      engines: [
        {
          name: 'pat',
          type: 'databricks',
          host: 'http://127.0.0.1:9',
          warehouseId: 'w',
          auth: { type: 'pat', tokenEnv: 'DBX_TOKEN' },
        },
      ],
    });
    expect(loadConnectionsConfig(home({ 'pipebook.config.json': json })).engines[0].name).toBe('pat');
    expect(loadConnectionsConfig(home({})).engines).toEqual([]);
  });

  it('refuses two config files', () => {
    const e = errorOf(() =>
      loadConnectionsConfig(home({ 'pipebook.config.yaml': YAML, 'pipebook.config.json': '{}' })),
    );
    expect(e.code).toBe('invalid_config');
    expect(e.message).toContain('more than one');
  });

  it('names the bad field', () => {
    const bad = {
      engines: [
        {
          name: 'dbx',
          type: 'databricks',
          host: 'https://x.cloud.databricks.com',
          auth: { type: 'pat', tokenEnv: 'T' },
        },
      ],
    };
    expect(errorOf(() => parseConnectionsConfig(bad)).message).toContain('engines[0].warehouseId');
    const badAuth = {
      engines: [
        {
          name: 'snow',
          type: 'snowflake',
          account: 'a',
          user: 'u',
          auth: { type: 'keypair', privateKeyEnv: 'not a var' },
        },
      ],
    };
    expect(errorOf(() => parseConnectionsConfig(badAuth)).message).toContain('engines[0].auth.privateKeyEnv');
    const badWait = {
      engines: [
        {
          name: 'd',
          type: 'databricks',
          host: 'https://h',
          warehouseId: 'w',
          waitTimeoutSeconds: 3,
          auth: { type: 'pat', tokenEnv: 'T' },
        },
      ],
    };
    expect(errorOf(() => parseConnectionsConfig(badWait)).message).toMatch(
      /engines\[0\]\.waitTimeoutSeconds: must be 0 or between 5 and 50/,
    );
    expect(errorOf(() => parseConnectionsConfig({ engines: [{ name: 'x', type: 'oracle' }] })).message).toContain(
      'engines[0].type',
    );
    expect(
      errorOf(() => parseConnectionsConfig({ engines: [{ name: 'Bad Name', type: 'snowflake' }] })).message,
    ).toContain('engines[0].name');
    expect(errorOf(() => parseConnectionsConfig({ engins: [] })).message).toContain('engins');
    // Sections owned by other features share the file.
    expect(parseConnectionsConfig({ copilot: { model: 'm' }, engines: [] }).engines).toEqual([]);
  });

  it('refuses secrets written inline and points to the *Env field', () => {
    const inline = {
      engines: [
        {
          name: 'd',
          type: 'databricks',
          host: 'https://h',
          warehouseId: 'w',
          auth: { type: 'pat', token: 'dapi-secret-value' },
        },
      ],
    };
    const e = errorOf(() => parseConnectionsConfig(inline));
    expect(e.message).toContain('engines[0].auth.token');
    expect(e.message).toContain('tokenEnv');
    expect(e.message).not.toContain('dapi-secret-value');
    const pw = {
      engines: [
        {
          name: 's',
          type: 'snowflake',
          account: 'a',
          user: 'u',
          password: 'hunter2',
          auth: { type: 'oauth', tokenEnv: 'T' },
        },
      ],
    };
    expect(errorOf(() => parseConnectionsConfig(pw)).message).toContain('passwordEnv');
  });

  it('refuses duplicate names and the embedded engine name', () => {
    const one = {
      name: 'd',
      type: 'databricks',
      host: 'https://h',
      warehouseId: 'w',
      auth: { type: 'pat', tokenEnv: 'T' },
    };
    expect(errorOf(() => parseConnectionsConfig({ engines: [one, one] })).message).toContain('duplicate engine name');
    expect(errorOf(() => parseConnectionsConfig({ engines: [{ ...one, name: 'duckdb' }] })).message).toContain(
      'embedded',
    );
  });

  it('reads a secret from the environment and says which variable is missing, never a value', () => {
    expect(readSecret({ X: 'v' }, 'snow', 'auth.tokenEnv', 'X')).toBe('v');
    const e = errorOf(() => readSecret({}, 'snow', 'auth.tokenEnv', 'SNOW_TOKEN'));
    expect(e.message).toBe('engine "snow": environment variable SNOW_TOKEN (auth.tokenEnv) is not set');
  });

  it('builds one engine per connection; one with a missing secret stays listed and explains itself', async () => {
    const dir = home({ 'pipebook.config.yaml': YAML });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const engines = connectionEngines({ home: dir, env: { SNOWFLAKE_PRIVATE_KEY: pem } });
    expect(engines[0]).toBeInstanceOf(SnowflakeEngine);
    expect(engines[0].info).toEqual({
      name: 'snow',
      type: 'snowflake',
      dialect: 'snowflake',
      label: 'Snowflake myorg-analytics · COMPUTE_WH',
    });
    expect(engines[1]).toBeInstanceOf(UnavailableEngine);
    expect(engines[1].info.label).toContain('not available');
    await expect(engines[1].catalog()).rejects.toMatchObject({
      code: 'invalid_config',
      message: 'engine "lakehouse": environment variable DATABRICKS_CLIENT_SECRET (auth.clientSecretEnv) is not set',
    });
    const all = connectionEngines({
      home: dir,
      env: { SNOWFLAKE_PRIVATE_KEY: pem, DATABRICKS_CLIENT_SECRET: 's3cret' },
    });
    expect(all[1]).toBeInstanceOf(DatabricksEngine);
    expect(JSON.stringify(all.map((e) => e.info))).not.toContain('s3cret');
  });

  it('reports an unreadable private key without echoing it', () => {
    const dir = home({ 'pipebook.config.yaml': YAML });
    const [snow] = connectionEngines({ home: dir, env: { SNOWFLAKE_PRIVATE_KEY: 'not-a-key-SECRETMATERIAL' } });
    expect(snow).toBeInstanceOf(UnavailableEngine);
    return expect(snow.validate('SELECT 1')).rejects.toSatisfy(
      (e: PipebookError) => e.code === 'invalid_config' && !e.message.includes('SECRETMATERIAL'),
    );
  });
});
