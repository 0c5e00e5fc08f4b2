// Engine connections ("fabrics"): the server-side file PIPEBOOK_HOME/pipebook.config.yaml (or .json) lists the remote
// engines by name. Secrets are never written in it: each secret field names an environment variable (`tokenEnv`,
// `privateKeyEnv`, ...) that is read when the engine is created, so the config file can be committed and shown.
import path from 'node:path';
import { type ColumnInfo, PipebookError } from '@pipebook/shared';
import { z } from 'zod';
import { readConfigFile } from './config-file.ts';
import { DatabricksEngine } from './databricks/engine.ts';
import type { CatalogTable, Engine, EngineInfo, ExecuteOutcome } from './engine.ts';
import {
  createSparkConnectionEngine,
  databricksClusterConnectionSchema,
  describeSparkConnection,
  livyConnectionSchema,
  type SparkConnectionConfig,
} from './livy/spark-connections.ts';
import { SnowflakeEngine } from './snowflake/engine.ts';

export { CONFIG_FILES } from './config-file.ts';

/** The embedded engine's name; a connection may not take it. */
export const EMBEDDED_ENGINE_NAME = 'duckdb';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable (letters, digits, _)');
const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://');

const snowflakeAuth = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('keypair'),
    /** Env var holding the PKCS#8 PEM private key (possibly encrypted). */
    privateKeyEnv: envName,
    /** Env var holding the passphrase of an encrypted key. */
    passphraseEnv: envName.optional(),
  }),
  z.strictObject({ type: z.literal('oauth'), tokenEnv: envName }),
]);

export const snowflakeConnectionSchema = z.strictObject({
  name: z.string(),
  type: z.literal('snowflake'),
  label: z.string().max(100).optional(),
  /** Account identifier, e.g. `myorg-myacct` or `xy12345.us-east-1`. */
  account: z.string().min(1).max(255),
  user: z.string().min(1).max(255),
  auth: snowflakeAuth,
  /** Defaults to https://<account>.snowflakecomputing.com; set it for a proxy or the Pipebook test server. */
  url: httpUrl.optional(),
  warehouse: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
  /** Statement timeout in seconds (0 = the account maximum). */
  timeoutSeconds: z.number().int().min(0).max(604800).optional(),
  catalogTtlSeconds: z.number().int().min(0).max(86400).optional(),
});

const databricksAuth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('pat'), tokenEnv: envName }),
  z.strictObject({
    type: z.literal('oauth-m2m'),
    /** The service principal's application id (not a secret). */
    clientId: z.string().min(1),
    clientSecretEnv: envName,
  }),
]);

export const databricksConnectionSchema = z.strictObject({
  name: z.string(),
  type: z.literal('databricks'),
  label: z.string().max(100).optional(),
  /** Workspace URL, e.g. https://adb-1234567890.12.azuredatabricks.net */
  host: httpUrl,
  warehouseId: z.string().min(1),
  catalog: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  auth: databricksAuth,
  /** `auto` asks for INLINE results and switches to EXTERNAL_LINKS when the result is too large to inline. */
  disposition: z.enum(['auto', 'inline', 'external_links']).optional(),
  /** Seconds the submit call blocks waiting for a result: 0 or 5-50 (the API's own limits). */
  waitTimeoutSeconds: z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 5 && n <= 50), 'must be 0 or between 5 and 50')
    .optional(),
  catalogTtlSeconds: z.number().int().min(0).max(86400).optional(),
});

export type SnowflakeConnection = z.infer<typeof snowflakeConnectionSchema>;
export type DatabricksConnection = z.infer<typeof databricksConnectionSchema>;
// Spark engines (Livy sessions, Databricks all-purpose clusters): schemas and builder in livy/spark-connections.ts.
export type Connection = SnowflakeConnection | DatabricksConnection | SparkConnectionConfig;
export type ConnectionType = Connection['type'];

// One entry per connection type; a new engine type (e.g. Livy) joins by adding its schema here.
const CONNECTION_SCHEMAS = {
  snowflake: snowflakeConnectionSchema,
  databricks: databricksConnectionSchema,
  livy: livyConnectionSchema,
  'databricks-cluster': databricksClusterConnectionSchema,
} as const;

/** Top-level sections of the config file; features besides the engines own theirs (e.g. `copilot`). */
const ROOT_SECTIONS = ['engines', 'copilot'];

const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/** Keys that would hold a secret inline; the config must name an environment variable instead. */
const INLINE_SECRET_KEYS: Record<string, string> = {
  password: 'passwordEnv',
  token: 'tokenEnv',
  privateKey: 'privateKeyEnv',
  passphrase: 'passphraseEnv',
  clientSecret: 'clientSecretEnv',
  secret: 'a *Env field',
};

export interface ConnectionsConfig {
  /** Absolute path of the file read, or undefined when there is none. */
  file?: string;
  engines: Connection[];
}

/** Validates a parsed config document. Errors name the field, e.g. `engines[1].auth.tokenEnv`. */
export function parseConnectionsConfig(input: unknown, file = 'pipebook.config'): ConnectionsConfig {
  if (input === null || input === undefined) return { file, engines: [] };
  if (typeof input !== 'object' || Array.isArray(input))
    throw configError(file, '', 'must be an object with `engines`');
  const root = input as Record<string, unknown>;
  for (const key of Object.keys(root)) {
    if (!ROOT_SECTIONS.includes(key))
      throw configError(file, key, `unknown section (expected ${ROOT_SECTIONS.map((k) => `\`${k}\``).join(' or ')})`);
  }
  const list = root.engines ?? [];
  if (!Array.isArray(list)) throw configError(file, 'engines', 'must be a list');
  const engines: Connection[] = [];
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    const at = `engines[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw configError(file, at, 'must be an object');
    const raw = entry as Record<string, unknown>;
    rejectInlineSecrets(file, at, raw);
    if (typeof raw.name !== 'string' || !NAME_PATTERN.test(raw.name))
      throw configError(file, `${at}.name`, 'must be 1-63 lowercase letters, digits, _ or -, starting with a letter');
    if (raw.name === EMBEDDED_ENGINE_NAME)
      throw configError(file, `${at}.name`, `"${EMBEDDED_ENGINE_NAME}" is the embedded engine's name`);
    if (seen.has(raw.name)) throw configError(file, `${at}.name`, `duplicate engine name "${raw.name}"`);
    seen.add(raw.name);
    const type = raw.type;
    if (typeof type !== 'string' || !(type in CONNECTION_SCHEMAS))
      throw configError(file, `${at}.type`, `must be one of ${Object.keys(CONNECTION_SCHEMAS).join(', ')}`);
    const result = CONNECTION_SCHEMAS[type as ConnectionType].safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = [at, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('');
      const message =
        issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message || 'invalid';
      throw configError(file, where.replace('].[', ']['), message);
    }
    engines.push(result.data);
  });
  return { file, engines };
}

function rejectInlineSecrets(file: string, at: string, raw: Record<string, unknown>): void {
  const check = (obj: Record<string, unknown>, prefix: string) => {
    for (const key of Object.keys(obj)) {
      if (key in INLINE_SECRET_KEYS)
        throw configError(
          file,
          `${prefix}.${key}`,
          `secrets are not stored in the config file; use ${INLINE_SECRET_KEYS[key]} to name an environment variable`,
        );
    }
  };
  check(raw, at);
  if (typeof raw.auth === 'object' && raw.auth !== null) check(raw.auth as Record<string, unknown>, `${at}.auth`);
}

function configError(file: string, field: string, message: string): PipebookError {
  return new PipebookError('invalid_config', `${path.basename(file)}: ${field ? `${field}: ` : ''}${message}`);
}

/** Reads PIPEBOOK_HOME/pipebook.config.{yaml,yml,json}; no file means no remote engines. */
export function loadConnectionsConfig(home: string): ConnectionsConfig {
  const read = readConfigFile(home);
  if (!read) return { engines: [] };
  return { ...parseConnectionsConfig(read.doc, read.file), file: read.file };
}

export type SecretEnv = Readonly<Record<string, string | undefined>>;

/**
 * Reads the secret a connection field points at. The message names the engine, the field and the variable, never a
 * value, so it is safe to show in the UI.
 */
export function readSecret(env: SecretEnv, engine: string, field: string, varName: string): string {
  const value = env[varName];
  if (value === undefined || value === '')
    throw new PipebookError(
      'invalid_config',
      `engine "${engine}": environment variable ${varName} (${field}) is not set`,
    );
  return value;
}

/** What the UI and API may see of a connection: no env var values, no URLs with credentials. */
export function describeConnection(c: Connection): { name: string; type: ConnectionType; label: string } {
  switch (c.type) {
    case 'snowflake':
      return {
        name: c.name,
        type: c.type,
        label: c.label ?? `Snowflake ${c.account}${c.warehouse ? ` · ${c.warehouse}` : ''}`,
      };
    case 'databricks':
      return { name: c.name, type: c.type, label: c.label ?? `Databricks ${new URL(c.host).hostname}` };
    case 'livy':
    case 'databricks-cluster':
      return { name: c.name, type: c.type, label: describeSparkConnection(c) };
  }
}

// ---- engines from connections ----

export interface ConnectionEngineDeps {
  env: SecretEnv;
  fetch?: typeof fetch;
}

/** The engine for one connection. Throws PipebookError('invalid_config') when a secret it names is not set. */
export function createConnectionEngine(c: Connection, deps: ConnectionEngineDeps): Engine {
  switch (c.type) {
    case 'snowflake':
      return new SnowflakeEngine(c, deps);
    case 'databricks':
      return new DatabricksEngine(c, deps);
    case 'livy':
    case 'databricks-cluster':
      return createSparkConnectionEngine(c, deps.env);
  }
}

/**
 * Stands in for a connection that could not be built (e.g. its env var is unset): it stays listed so the user sees
 * it and, on use, why it does not work, instead of it silently vanishing.
 */
export class UnavailableEngine implements Engine {
  readonly info: EngineInfo;
  constructor(
    c: Connection,
    private readonly reason: string,
  ) {
    const d = describeConnection(c);
    // Spark engines speak the Databricks (Spark SQL) dialect.
    const spark = c.type === 'livy' || c.type === 'databricks-cluster';
    this.info = {
      name: c.name,
      type: c.type,
      dialect: spark ? 'databricks' : c.type,
      label: `${d.label} (not available)`,
    };
  }
  private fail(): never {
    throw new PipebookError('invalid_config', this.reason);
  }
  async execute(): Promise<ExecuteOutcome> {
    this.fail();
  }
  async validate(): Promise<ColumnInfo[]> {
    this.fail();
  }
  async catalog(): Promise<CatalogTable[]> {
    this.fail();
  }
  async close(): Promise<void> {}
}

/** Engine factory for the kernel's registry: one engine per connection in PIPEBOOK_HOME's config file. */
export function connectionEngines(ctx: { home: string; env: SecretEnv }): Engine[] {
  const config = loadConnectionsConfig(ctx.home);
  return config.engines.map((c) => {
    try {
      return createConnectionEngine(c, { env: ctx.env });
    } catch (err) {
      if (err instanceof PipebookError) return new UnavailableEngine(c, err.message);
      throw err;
    }
  });
}
