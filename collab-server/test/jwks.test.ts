// A2: token mode with an identity provider's key set (JWKS), verified with jose.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type CollabProcess, createNotebook, newClient, startCollabProcess } from './helpers.ts';

let idp: http.Server;
let server: CollabProcess;
let sign: (sub: string, name: string) => Promise<string>;
let signWithOtherKey: (sub: string) => Promise<string>;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  idp = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  sign = (sub, name) =>
    new SignJWT({ name })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject(sub)
      .setExpirationTime('5m')
      .sign(privateKey);
  signWithOtherKey = (sub) =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(sub).sign(other.privateKey);
  server = await startCollabProcess({ PIPEBOOK_JWKS_URL: jwksUrl });
});
afterAll(async () => {
  await server?.cleanup();
  idp?.close();
});

describe('JWKS tokens', () => {
  it('[A2] accepts tokens signed by the identity provider and refuses others', async () => {
    const ada = await sign('ada', 'Ada Lovelace');
    expect((await api(server.url, '/api/me', { token: ada })).body).toMatchObject({ id: 'ada', name: 'Ada Lovelace' });
    expect((await api(server.url, '/api/me', { token: await signWithOtherKey('ada') })).status).toBe(401);
    const id = await createNotebook(server.url, { template: 'demo' }, ada);
    const c = newClient(server.url, id, { token: ada });
    await c.synced();
    expect(c.doc.getMap('cells').size).toBeGreaterThan(0);
    c.destroy();
  });

  it('[A1] token mode does not create the demo notebook for nobody', async () => {
    const bob = await sign('bob', 'Bob');
    expect((await api(server.url, '/api/notebooks', { token: bob })).body).toEqual([]);
  });
});
