// Config entries of the two Spark engines in pipebook.config.yaml, in the same style as the warehouse connections:
// secrets are never inline, a `*Env` field names the environment variable that holds them.
//
//   engines:
//     - name: spark
//       type: livy
//       url: https://knox.example.com/gateway/default/livy/v1
//       auth: { type: basic, user: ana, passwordEnv: LIVY_PASSWORD }
//       session: { driverMemory: 2g, numExecutors: 4, conf: { spark.sql.shuffle.partitions: "64" } }
//     - name: cluster
//       type: databricks-cluster
//       host: https://adb-1234567890.12.azuredatabricks.net
//       clusterId: 0101-120000-abcd1234
//       auth: { type: pat, tokenEnv: DATABRICKS_TOKEN }
import { PipebookError } from '@pipebook/shared';
import { z } from 'zod';
import { createDatabricksClusterEngine, type DatabricksClusterEngine } from '../databricks-commands/cluster-engine.ts';
import { createLivyEngine, type LivyEngine } from './livy-engine.ts';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable (letters, digits, _)');
const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://');

export const livyConnectionSchema = z.strictObject({
  name: z.string(),
  type: z.literal('livy'),
  label: z.string().max(100).optional(),
  /** Livy base URL, or the Knox topology path `https://knox/gateway/<topology>/livy/v1`. */
  url: httpUrl,
  /** HTTP Basic (Livy LDAP auth, or Knox). Kerberos/SPNEGO is not supported. */
  auth: z.strictObject({ type: z.literal('basic'), user: z.string().min(1), passwordEnv: envName }).optional(),
  proxyUser: z.string().min(1).optional(),
  doAs: z.string().min(1).optional(),
  /** Extra `POST /sessions` fields: driverMemory, executorMemory, numExecutors, queue, conf, jars, pyFiles, ... */
  session: z.record(z.string(), z.unknown()).optional(),
  /** The server's livy.rsc.sql.num-rows (default 1000), so a result cut short there is reported. */
  sqlNumRows: z.number().int().min(1).optional(),
  startTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
  /** How often idle sessions are checked so a death shows as stale before anyone runs anything (0 = never). */
  healthCheckSeconds: z.number().int().min(0).max(3600).optional(),
});

export const databricksClusterConnectionSchema = z.strictObject({
  name: z.string(),
  type: z.literal('databricks-cluster'),
  label: z.string().max(100).optional(),
  host: httpUrl,
  /** An all-purpose (classic) cluster: Command Execution does not run on serverless or SQL warehouses. */
  clusterId: z.string().min(1),
  auth: z.strictObject({ type: z.literal('pat'), tokenEnv: envName }),
  startTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
  healthCheckSeconds: z.number().int().min(0).max(3600).optional(),
});

export type LivyConnectionConfig = z.infer<typeof livyConnectionSchema>;
export type DatabricksClusterConnectionConfig = z.infer<typeof databricksClusterConnectionSchema>;
export type SparkConnectionConfig = LivyConnectionConfig | DatabricksClusterConnectionConfig;

function secret(env: Readonly<Record<string, string | undefined>>, engine: string, field: string, name: string) {
  const v = env[name];
  if (v === undefined || v === '') {
    throw new PipebookError('invalid_config', `engine "${engine}": environment variable ${name} (${field}) is not set`);
  }
  return v;
}

/** The engine for a Spark connection; the secret named by the config is read from `env` now. */
export function createSparkConnectionEngine(
  c: SparkConnectionConfig,
  env: Readonly<Record<string, string | undefined>>,
): LivyEngine | DatabricksClusterEngine {
  const seconds = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
  if (c.type === 'livy') {
    return createLivyEngine({
      type: 'livy',
      name: c.name,
      url: c.url,
      ...(c.auth
        ? {
            auth: {
              type: 'basic',
              user: c.auth.user,
              password: secret(env, c.name, 'auth.passwordEnv', c.auth.passwordEnv),
            },
          }
        : {}),
      ...(c.proxyUser ? { proxyUser: c.proxyUser } : {}),
      ...(c.doAs ? { doAs: c.doAs } : {}),
      ...(c.session ? { session: c.session } : {}),
      ...(c.sqlNumRows ? { sqlNumRows: c.sqlNumRows } : {}),
      startTimeoutMs: seconds(c.startTimeoutSeconds),
      healthCheckMs: seconds(c.healthCheckSeconds),
    });
  }
  return createDatabricksClusterEngine({
    type: 'databricks-cluster',
    name: c.name,
    host: c.host,
    clusterId: c.clusterId,
    token: secret(env, c.name, 'auth.tokenEnv', c.auth.tokenEnv),
    startTimeoutMs: seconds(c.startTimeoutSeconds),
    healthCheckMs: seconds(c.healthCheckSeconds),
  });
}

/** The UI label of a Spark connection (no secrets, no credentials in URLs). */
export function describeSparkConnection(c: SparkConnectionConfig): string {
  if (c.label) return c.label;
  return c.type === 'livy' ? `Livy ${new URL(c.url).host}` : `Databricks cluster ${c.clusterId}`;
}
