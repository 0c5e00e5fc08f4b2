import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { KeyPairTokenSource, loadPrivateKey, normalizeAccount, publicKeyFingerprint } from './auth.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('Snowflake key-pair JWT', () => {
  it('normalises the account part as the SQL API expects', () => {
    expect(normalizeAccount('xy12345.us-east-1')).toBe('XY12345');
    expect(normalizeAccount('xy12345.us-east-2.aws')).toBe('XY12345');
    expect(normalizeAccount('myorg-myacct')).toBe('MYORG-MYACCT');
    expect(normalizeAccount('myorg-acct1.global')).toBe('MYORG');
    expect(normalizeAccount('https://myorg-myacct.snowflakecomputing.com')).toBe('MYORG-MYACCT');
  });

  it('fingerprints the public key as SHA256: + base64 of the DER SPKI digest', () => {
    const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const want = `SHA256:${createHash('sha256').update(der).digest('base64')}`;
    expect(publicKeyFingerprint(privateKey)).toBe(want);
    expect(publicKeyFingerprint(publicKey)).toBe(want);
    expect(want).toMatch(/^SHA256:[A-Za-z0-9+/]{43}=$/);
  });

  it('signs RS256 with iss ACCOUNT.USER.SHA256:fp, sub ACCOUNT.USER and a lifetime under an hour', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const src = new KeyPairTokenSource({ account: 'xy12345.us-east-1', user: 'etl_user', privateKey, now: () => now });
    const token = await src.token();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims.sub).toBe('XY12345.ETL_USER');
    expect(claims.iss).toBe(`XY12345.ETL_USER.${publicKeyFingerprint(publicKey)}`);
    expect(claims.iat).toBe(now / 1000);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(59 * 60);
    const spki = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }) as string, 'RS256');
    await expect(jwtVerify(token, spki, { currentDate: new Date(now) })).resolves.toBeTruthy();

    // Cached while fresh, re-signed once less than 5 minutes are left.
    now += 50 * 60_000;
    expect(await src.token()).toBe(token);
    now += 5 * 60_000;
    const renewed = await src.token();
    expect(renewed).not.toBe(token);
    expect(decodeJwt(renewed).iat).toBe(now / 1000);
    // A rejection forces a new one even when the cached token looks fresh.
    now += 1000;
    expect(await src.token(true)).not.toBe(renewed);
  });

  it('never signs for longer than an hour', async () => {
    const src = new KeyPairTokenSource({ account: 'a', user: 'u', privateKey, lifetimeMs: 5 * 3_600_000 });
    const c = decodeJwt(await src.token());
    expect((c.exp ?? 0) - (c.iat ?? 0)).toBe(3600);
  });

  it('reads plain and encrypted PKCS#8 keys, and PEM with literal \\n', () => {
    expect(loadPrivateKey(pem).asymmetricKeyType).toBe('rsa');
    expect(loadPrivateKey(pem.replace(/\n/g, '\\n')).asymmetricKeyType).toBe('rsa');
    const enc = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(publicKeyFingerprint(loadPrivateKey(enc, 'pw'))).toBe(publicKeyFingerprint(publicKey));
    expect(() => loadPrivateKey(enc, 'wrong')).toThrow(/could not be read/);
    expect(() => loadPrivateKey('garbage')).toThrow(/could not be read/);
  });
});
