// The collab server's settings, read once from the environment with defaults that work on a fresh machine.
import path from 'node:path';
import { PipebookError } from '@pipebook/shared';

export type Durability = 'normal' | 'full';

export interface CollabConfig {
  /** PIPEBOOK_HOME, absolute. The store lives under `<home>/collab/`. */
  home: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** 'local' when neither a JWT secret nor a JWKS URL is configured. */
  authMode: 'local' | 'token';
  jwtSecret?: string;
  jwksUrl?: string;
  serviceSecret?: string;
  kernelUrl: string;
  /** Built client; served with SPA fallback when `<distDir>/index.html` exists. */
  distDir: string;
  durability: Durability;
  /** Background fsync period of the write-ahead log in 'normal' durability (the power-loss window). */
  fsyncIntervalMs: number;
  limits: CollabLimits;
  /** Create the demo notebook when the store is empty. */
  seedDemo: boolean;
  /** PIPEBOOK_REDIS_URL: several instances share notebooks through Redis (docs/deployment.md). Unset: one process. */
  redisUrl?: string;
}

export interface CollabLimits {
  /** Largest WebSocket message accepted; larger frames are refused by ws before any decoding (close 1009). */
  maxMessageBytes: number;
  /** Largest document (encoded state); updates that would grow it past this are refused (close 1009). */
  maxDocBytes: number;
  /** Sustained messages per second per connection, with a burst of twice that. */
  messagesPerSecond: number;
  /** WebSocket handshakes being authenticated at once; more are answered 503. */
  maxPendingHandshakes: number;
  /** Time a handshake may spend on authentication. */
  authTimeoutMs: number;
  /** Awareness client ids one connection may control. */
  maxAwarenessClientsPerConnection: number;
}

export const DEFAULT_LIMITS: CollabLimits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxDocBytes: 64 * 1024 * 1024,
  messagesPerSecond: 500,
  maxPendingHandshakes: 256,
  authTimeoutMs: 5000,
  maxAwarenessClientsPerConnection: 16,
};

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new PipebookError('invalid_config', `${name} must be an integer >= ${min}`);
  return n;
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): CollabConfig {
  const jwtSecret = env.PIPEBOOK_JWT_SECRET || undefined;
  const jwksUrl = env.PIPEBOOK_JWKS_URL || undefined;
  const authMode = jwtSecret || jwksUrl ? 'token' : 'local';
  const durability = (env.PIPEBOOK_COLLAB_DURABILITY || 'normal') as Durability;
  if (durability !== 'normal' && durability !== 'full') {
    throw new PipebookError('invalid_config', 'PIPEBOOK_COLLAB_DURABILITY must be "normal" or "full"');
  }
  // Local mode has no authentication, so it must never listen beyond this machine.
  const host = authMode === 'local' ? '127.0.0.1' : env.PIPEBOOK_HOST || '0.0.0.0';
  return {
    home: path.resolve(cwd, env.PIPEBOOK_HOME || '.pipebook'),
    host,
    port: int(env, 'PIPEBOOK_PORT', 5170),
    authMode,
    jwtSecret,
    jwksUrl,
    serviceSecret: env.PIPEBOOK_SERVICE_SECRET || undefined,
    kernelUrl: env.PIPEBOOK_KERNEL_URL || `http://127.0.0.1:${env.PIPEBOOK_KERNEL_PORT || '5171'}`,
    distDir: path.resolve(cwd, env.PIPEBOOK_DIST_DIR || 'dist'),
    durability,
    fsyncIntervalMs: int(env, 'PIPEBOOK_COLLAB_FSYNC_MS', 50, 1),
    seedDemo: env.PIPEBOOK_SEED_DEMO !== '0',
    redisUrl: env.PIPEBOOK_REDIS_URL || undefined,
    limits: {
      maxMessageBytes: int(env, 'PIPEBOOK_COLLAB_MAX_MESSAGE_BYTES', DEFAULT_LIMITS.maxMessageBytes, 1024),
      maxDocBytes: int(env, 'PIPEBOOK_COLLAB_MAX_DOC_BYTES', DEFAULT_LIMITS.maxDocBytes, 1024),
      messagesPerSecond: int(env, 'PIPEBOOK_COLLAB_MESSAGES_PER_SECOND', DEFAULT_LIMITS.messagesPerSecond, 1),
      maxPendingHandshakes: int(env, 'PIPEBOOK_COLLAB_MAX_PENDING_HANDSHAKES', DEFAULT_LIMITS.maxPendingHandshakes, 1),
      authTimeoutMs: int(env, 'PIPEBOOK_COLLAB_AUTH_TIMEOUT_MS', DEFAULT_LIMITS.authTimeoutMs, 1),
      maxAwarenessClientsPerConnection: DEFAULT_LIMITS.maxAwarenessClientsPerConnection,
    },
  };
}

/** Config for tests and embedding: defaults plus overrides, no environment. */
export function configWith(overrides: Partial<CollabConfig> & { home: string }): CollabConfig {
  const base = loadConfig({}, process.cwd());
  return {
    ...base,
    port: 0,
    ...overrides,
    authMode: overrides.jwtSecret || overrides.jwksUrl ? 'token' : (overrides.authMode ?? 'local'),
    limits: { ...base.limits, ...overrides.limits },
  };
}
