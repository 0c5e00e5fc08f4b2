import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults work on a fresh machine: local mode, loopback, home under the working directory', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c).toMatchObject({
      home: '/srv/app/.pipebook',
      dataDir: '/srv/app/.pipebook/data',
      warehousePath: '/srv/app/.pipebook/kernel/warehouse.duckdb',
      resultsDir: '/srv/app/.pipebook/kernel/results',
      host: '127.0.0.1',
      port: 5171,
      collabUrl: 'http://127.0.0.1:5170',
      auth: { type: 'local' },
      demoData: true,
    });
    expect(c.serviceSecret).toBeUndefined();
  });

  it('reads every setting from the environment', () => {
    const c = loadConfig(
      {
        PIPEBOOK_HOME: 'home',
        PIPEBOOK_DATA_DIR: '/data',
        PIPEBOOK_KERNEL_PORT: '0',
        PIPEBOOK_COLLAB_URL: 'http://collab:9000/',
        PIPEBOOK_SERVICE_SECRET: 's3cret',
        PIPEBOOK_JWT_SECRET: 'jwt',
        PIPEBOOK_RESULTS_MAX_BYTES: '1000',
        PIPEBOOK_KERNEL_CONCURRENCY: '2',
        PIPEBOOK_DEMO_DATA: '0',
      },
      '/w',
    );
    expect(c).toMatchObject({
      home: path.resolve('/w/home'),
      dataDir: '/data',
      port: 0,
      collabUrl: 'http://collab:9000',
      serviceSecret: 's3cret',
      auth: { type: 'token', jwtSecret: 'jwt' },
      resultsMaxBytes: 1000,
      maxConcurrentCells: 2,
      demoData: false,
      // The kernel is reached only through the collaboration server, whatever the auth mode.
      host: '127.0.0.1',
    });
    expect(loadConfig({ PIPEBOOK_JWKS_URL: 'https://idp/jwks' }).auth).toEqual({
      type: 'token',
      jwksUrl: 'https://idp/jwks',
    });
    expect(() => loadConfig({ PIPEBOOK_KERNEL_PORT: 'abc' })).toThrow(/PIPEBOOK_KERNEL_PORT/);
  });
});
