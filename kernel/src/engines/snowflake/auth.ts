// Snowflake authentication: key-pair JWT (RS256) built exactly as the SQL API wants it, or an OAuth access token.
// The JWT is cached and re-signed before it expires (the vendor sample signs for 59 min and renews at 54 min).
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { PipebookError } from '@pipebook/shared';
import { SignJWT } from 'jose';

export type TokenType = 'KEYPAIR_JWT' | 'OAUTH';

export interface SnowflakeTokenSource {
  readonly tokenType: TokenType;
  /** A token valid now; `forceNew` after the server rejected the cached one. */
  token(forceNew?: boolean): Promise<string>;
}

/** `XY12345.US-EAST-1` -> `XY12345`; `myorg-acct.global` -> `MYORG`; `myorg-myacct` stays `MYORG-MYACCT`. */
export function normalizeAccount(account: string): string {
  let a = account.trim();
  // Strip a full host name if one was pasted.
  a = a.replace(/^https?:\/\//i, '').replace(/\.snowflakecomputing\.com.*$/i, '');
  if (/\.global$/i.test(a)) {
    const dash = a.indexOf('-');
    if (dash > 0) a = a.slice(0, dash);
  }
  const dot = a.indexOf('.');
  if (dot > 0) a = a.slice(0, dot);
  return a.toUpperCase();
}

/** `SHA256:` + base64 of the SHA-256 of the public key's DER SubjectPublicKeyInfo (what DESCRIBE USER shows). */
export function publicKeyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

export function loadPrivateKey(pem: string, passphrase?: string): KeyObject {
  try {
    // PEM in env vars often arrives with literal "\n"; accept both.
    const text = pem.includes('\\n') && !pem.includes('\n') ? pem.replace(/\\n/g, '\n') : pem;
    const key = createPrivateKey(passphrase ? { key: text, format: 'pem', passphrase } : { key: text, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
    return key;
  } catch (err) {
    // Never echo the key material; the reason alone is enough to act on.
    throw new PipebookError(
      'invalid_config',
      `the Snowflake private key could not be read (${(err as Error).message.split('\n')[0]})`,
    );
  }
}

export interface KeyPairOptions {
  account: string;
  user: string;
  privateKey: KeyObject;
  /** Token lifetime; Snowflake accepts at most 1 h. */
  lifetimeMs?: number;
  /** Re-sign when less than this is left. */
  renewBeforeMs?: number;
  now?: () => number;
}

export class KeyPairTokenSource implements SnowflakeTokenSource {
  readonly tokenType = 'KEYPAIR_JWT' as const;
  readonly qualifiedUser: string;
  readonly fingerprint: string;
  private cached?: { token: string; expiresAt: number };
  private readonly lifetimeMs: number;
  private readonly renewBeforeMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: KeyPairOptions) {
    this.qualifiedUser = `${normalizeAccount(opts.account)}.${opts.user.toUpperCase()}`;
    this.fingerprint = publicKeyFingerprint(opts.privateKey);
    this.lifetimeMs = Math.min(opts.lifetimeMs ?? 59 * 60_000, 3_600_000);
    this.renewBeforeMs = opts.renewBeforeMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  async token(forceNew = false): Promise<string> {
    const now = this.now();
    if (!forceNew && this.cached && this.cached.expiresAt - now > this.renewBeforeMs) return this.cached.token;
    const iat = Math.floor(now / 1000);
    const exp = iat + Math.floor(this.lifetimeMs / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(`${this.qualifiedUser}.${this.fingerprint}`)
      .setSubject(this.qualifiedUser)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.opts.privateKey);
    this.cached = { token, expiresAt: exp * 1000 };
    return token;
  }
}

export class OAuthTokenSource implements SnowflakeTokenSource {
  readonly tokenType = 'OAUTH' as const;
  constructor(private readonly accessToken: string) {}
  async token(): Promise<string> {
    return this.accessToken;
  }
}
