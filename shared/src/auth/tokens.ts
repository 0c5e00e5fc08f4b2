// Token verification for both servers (server-only: imports jose). User tokens are HS256 with PIPEBOOK_JWT_SECRET or
// keys from an identity provider's JWKS; the kernel's service token is HS256 with PIPEBOOK_SERVICE_SECRET.
import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { PipebookError } from '../errors.ts';

export interface TokenUser {
  id: string;
  name: string;
  /** True only for the kernel's service identity. */
  service?: boolean;
}

export interface TokenConfig {
  /** HS256 secret for user tokens (PIPEBOOK_JWT_SECRET). */
  jwtSecret?: string;
  /** Identity provider's key set (PIPEBOOK_JWKS_URL); used when no jwtSecret is set. */
  jwksUrl?: string;
  /** Optional expected `iss` and `aud` claims. */
  issuer?: string;
  audience?: string;
}

export const SERVICE_SUBJECT = 'pipebook-kernel';
export const SERVICE_NAME = 'Kernel';

// One key set per URL: jose caches keys and refetches on an unknown `kid`, so reuse the function.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySet(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    keySets.set(url, set);
  }
  return set;
}

const encoder = new TextEncoder();

function userFromClaims(payload: JWTPayload): TokenUser {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) {
    throw new PipebookError('unauthorized', 'Token has no usable "sub" claim');
  }
  const rawName = (payload as { name?: unknown }).name;
  const name = typeof rawName === 'string' && rawName.length > 0 ? rawName.slice(0, 200) : sub;
  return { id: sub, name };
}

function unauthorized(e: unknown): PipebookError {
  if (e instanceof PipebookError) return e;
  const code = (e as { code?: string }).code;
  const message =
    code === 'ERR_JWT_EXPIRED'
      ? 'Token expired'
      : code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC'
        ? 'Could not fetch the identity provider keys'
        : 'Invalid token';
  return new PipebookError('unauthorized', message, { cause: e });
}

/** Verifies a user's JWT; throws PipebookError('unauthorized') with a message saying why. */
export async function verifyUserToken(token: string, config: TokenConfig): Promise<TokenUser> {
  if (!token) throw new PipebookError('unauthorized', 'Missing token');
  const options = { issuer: config.issuer, audience: config.audience };
  try {
    if (config.jwtSecret) {
      const { payload } = await jwtVerify(token, encoder.encode(config.jwtSecret), {
        ...options,
        algorithms: ['HS256'],
      });
      return userFromClaims(payload);
    }
    if (config.jwksUrl) {
      const { payload } = await jwtVerify(token, keySet(config.jwksUrl), options);
      return userFromClaims(payload);
    }
  } catch (e) {
    throw unauthorized(e);
  }
  throw new PipebookError('unauthorized', 'Token auth is not configured');
}

/**
 * Signs the kernel's service token. No expiry by default: a y-websocket provider keeps the token it was built with
 * for every reconnect, and the secret, not the token, is what must stay private. Pass expiresIn to bound it.
 */
export async function signServiceToken(secret: string, options: { expiresIn?: string | number } = {}): Promise<string> {
  if (!secret) throw new PipebookError('invalid_config', 'PIPEBOOK_SERVICE_SECRET is empty');
  let jwt = new SignJWT({ name: SERVICE_NAME, svc: true })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(SERVICE_SUBJECT)
    .setIssuedAt();
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(encoder.encode(secret));
}

/** Verifies the kernel's service token (HS256 with the service secret, `svc: true`). */
export async function verifyServiceToken(token: string, secret: string): Promise<TokenUser> {
  if (!secret) throw new PipebookError('unauthorized', 'Service tokens are not configured');
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { algorithms: ['HS256'] });
    if ((payload as { svc?: unknown }).svc !== true) throw new PipebookError('unauthorized', 'Not a service token');
    return { ...userFromClaims(payload), service: true };
  } catch (e) {
    throw unauthorized(e);
  }
}

/** Signs a user token (tests, local tooling and identity bridges that share PIPEBOOK_JWT_SECRET). */
export async function signUserToken(
  secret: string,
  user: { id: string; name?: string },
  options: { expiresIn?: string | number } = {},
): Promise<string> {
  let jwt = new SignJWT(user.name ? { name: user.name } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user.id)
    .setIssuedAt();
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(encoder.encode(secret));
}

/** The bearer token of an Authorization header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m ? m[1] : undefined;
}
