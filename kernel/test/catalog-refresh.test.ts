// `GET /api/engines/:name/catalog?refresh=1` against a warehouse engine that caches its catalog (Snowflake, on its
// protocol test server): a table created on the remote side after the first listing is only seen once the caller asks
// for a refresh; without it the cached listing answers.
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { CatalogResponse } from '@pipebook/shared/protocol/kernel';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker } from '../src/auth/access.ts';
import { EngineRegistry } from '../src/engines/registry.ts';
import { SnowflakeEngine } from '../src/engines/snowflake/engine.ts';
import { kernelRouter, sendError } from '../src/http/routes.ts';
import { createWarehouse, type Warehouse } from './contract/warehouse.ts';
import { type SnowflakeTestServer, startSnowflakeTestServer } from './servers/snowflake/server.ts';

let warehouse: Warehouse;
let snow: SnowflakeTestServer;
let engine: SnowflakeEngine;
let http: ReturnType<ReturnType<typeof express>['listen']>;
let url: string;

beforeAll(async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  warehouse = await createWarehouse({ numbers: 10 });
  snow = await startSnowflakeTestServer({ account: 'pipebook-test', user: 'catalog_user', publicKey, warehouse });
  engine = new SnowflakeEngine(
    {
      name: 'snow',
      type: 'snowflake',
      account: 'pipebook-test',
      user: 'catalog_user',
      url: snow.url,
      warehouse: 'COMPUTE_WH',
      auth: { type: 'keypair', privateKeyEnv: 'CATALOG_SNOWFLAKE_KEY' },
    },
    { env: { CATALOG_SNOWFLAKE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string } },
  );
  const app = express();
  // Only the engine routes are exercised; the run service, result store and warehouse are never reached.
  const unused = {} as never;
  app.use(
    '/api',
    kernelRouter({
      access: new AccessChecker({ collabUrl: 'http://127.0.0.1:9', auth: { type: 'local' }, cacheMs: 0 }),
      engines: new EngineRegistry(engine),
      runs: unused,
      results: unused,
      warehouse: unused,
    }),
  );
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) =>
    sendError(res, err),
  );
  http = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    http.once('listening', resolve);
    http.once('error', reject);
  });
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await engine?.close();
  await snow?.close();
  warehouse?.close();
});

async function tableNames(query = ''): Promise<string[]> {
  const res = await fetch(`${url}/api/engines/snow/catalog${query}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as CatalogResponse;
  expect(body.engine).toBe('snow');
  return body.tables.map((t) => t.name.toLowerCase());
}

const catalogReads = () => snow.executions.filter((sql) => /information_schema\.columns/i.test(sql)).length;

describe('GET /api/engines/:name/catalog?refresh=1', () => {
  it('reads the remote catalog again instead of answering from the cache', async () => {
    const first = await tableNames();
    expect(first).toContain('customers');
    expect(first).not.toContain('fresh_sales');
    expect(catalogReads()).toBe(1);

    await warehouse.run('CREATE TABLE fresh_sales AS SELECT 1 AS id');

    // The cached listing stays as it was (the engine caches for minutes) and the remote side is not asked.
    expect(await tableNames()).not.toContain('fresh_sales');
    expect(catalogReads()).toBe(1);

    const refreshed = await tableNames('?refresh=1');
    expect(refreshed).toContain('fresh_sales');
    expect(catalogReads()).toBe(2);

    // The refreshed listing is cached in turn.
    expect(await tableNames()).toContain('fresh_sales');
    expect(catalogReads()).toBe(2);
  });

  it('answers engines without a catalog cache as before', async () => {
    const embeddedLike = new EngineRegistry({
      info: { name: 'plain', type: 'duckdb', dialect: 'duckdb', label: 'Plain' },
      execute: async () => ({ type: 'materialized', columns: [], rowCount: 0 }),
      validate: async () => [],
      catalog: async () => [{ schema: 'main', name: 'only', columns: [] }],
      close: async () => {},
    });
    const app = express();
    const unused = {} as never;
    app.use(
      '/api',
      kernelRouter({
        access: new AccessChecker({ collabUrl: 'http://127.0.0.1:9', auth: { type: 'local' }, cacheMs: 0 }),
        engines: embeddedLike,
        runs: unused,
        results: unused,
        warehouse: unused,
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/engines/plain/catalog?refresh=1`,
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as CatalogResponse).tables.map((t) => t.name)).toEqual(['only']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
