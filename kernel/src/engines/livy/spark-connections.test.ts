import { enginesResponseSchema } from '@pipebook/shared/protocol/kernel';
import { describe, expect, it } from 'vitest';
import { DatabricksClusterEngine } from '../databricks-commands/cluster-engine.ts';
import { LivyEngine } from './livy-engine.ts';
import {
  createSparkConnectionEngine,
  databricksClusterConnectionSchema,
  describeSparkConnection,
  livyConnectionSchema,
} from './spark-connections.ts';

describe('Spark connections', () => {
  it('parses a Livy entry behind Knox and builds the engine with the password from the environment', async () => {
    const c = livyConnectionSchema.parse({
      name: 'spark',
      type: 'livy',
      url: 'https://knox.example.com/gateway/default/livy/v1',
      auth: { type: 'basic', user: 'ana', passwordEnv: 'LIVY_PASSWORD' },
      session: { driverMemory: '2g', conf: { 'spark.sql.shuffle.partitions': '8' } },
      healthCheckSeconds: 0,
    });
    const engine = createSparkConnectionEngine(c, { LIVY_PASSWORD: 'pw' });
    expect(engine).toBeInstanceOf(LivyEngine);
    expect(engine.info).toMatchObject({ name: 'spark', type: 'livy', dialect: 'databricks' });
    expect(describeSparkConnection(c)).toBe('Livy knox.example.com');
    await engine.close();
    expect(() => createSparkConnectionEngine(c, {})).toThrow(/LIVY_PASSWORD \(auth.passwordEnv\) is not set/);
  });

  it('refuses inline secrets and builds a Databricks cluster engine', async () => {
    expect(
      livyConnectionSchema.safeParse({
        name: 's',
        type: 'livy',
        url: 'http://h:8998',
        auth: { type: 'basic', user: 'a', password: 'x' },
      }).success,
    ).toBe(false);
    const c = databricksClusterConnectionSchema.parse({
      name: 'cluster',
      type: 'databricks-cluster',
      host: 'https://adb-1.2.azuredatabricks.net',
      clusterId: '0101-120000-abcd1234',
      auth: { type: 'pat', tokenEnv: 'DATABRICKS_TOKEN' },
      healthCheckSeconds: 0,
    });
    const engine = createSparkConnectionEngine(c, { DATABRICKS_TOKEN: 'dapi' });
    expect(engine).toBeInstanceOf(DatabricksClusterEngine);
    // Its own engine type, told apart from a SQL warehouse in the engine list.
    expect(engine.info).toMatchObject({ name: 'cluster', type: 'databricks-cluster', dialect: 'databricks' });
    expect(enginesResponseSchema.parse({ engines: [engine.info] }).engines[0].type).toBe('databricks-cluster');
    expect(describeSparkConnection(c)).toBe('Databricks cluster 0101-120000-abcd1234');
    await engine.close();
  });
});

describe('Spark connections in pipebook.config.yaml', () => {
  it('are accepted by the connections config and built, or listed as unavailable without their secret', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { connectionEngines, describeConnection, loadConnectionsConfig } = await import('../connections.ts');
    const home = mkdtempSync(path.join(tmpdir(), 'pipebook-spark-config-'));
    try {
      writeFileSync(
        path.join(home, 'pipebook.config.yaml'),
        [
          'engines:',
          '  - name: spark',
          '    type: livy',
          '    url: http://livy.internal:8998',
          '    auth: { type: basic, user: ana, passwordEnv: LIVY_PASSWORD }',
          '    healthCheckSeconds: 0',
          '  - name: cluster',
          '    type: databricks-cluster',
          '    host: https://adb-1.2.azuredatabricks.net',
          '    clusterId: 0101-120000-abcd1234',
          '    auth: { type: pat, tokenEnv: DATABRICKS_TOKEN }',
          '    healthCheckSeconds: 0',
        ].join('\n'),
      );
      const config = loadConnectionsConfig(home);
      expect(config.engines.map(describeConnection)).toEqual([
        { name: 'spark', type: 'livy', label: 'Livy livy.internal:8998' },
        { name: 'cluster', type: 'databricks-cluster', label: 'Databricks cluster 0101-120000-abcd1234' },
      ]);
      const engines = connectionEngines({ home, env: { LIVY_PASSWORD: 'pw' } });
      expect(engines[0]).toBeInstanceOf(LivyEngine);
      expect(engines[1].info).toMatchObject({ name: 'cluster', type: 'databricks-cluster', dialect: 'databricks' });
      expect(engines[1].info.label).toMatch(/not available/);
      await expect(
        engines[1].execute({ sql: 'SELECT 1', signal: new AbortController().signal, resultPath: '' }),
      ).rejects.toThrow(/DATABRICKS_TOKEN/);
      await Promise.all(engines.map((e) => e.close()));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
