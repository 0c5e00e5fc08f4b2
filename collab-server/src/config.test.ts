// A1: local mode never listens beyond this machine; token mode is chosen by a secret or a key set URL.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('[A1] local mode binds 127.0.0.1 whatever PIPEBOOK_HOST says', () => {
    const c = loadConfig({ PIPEBOOK_HOST: '0.0.0.0' }, '/srv');
    expect(c.authMode).toBe('local');
    expect(c.host).toBe('127.0.0.1');
    expect(c.home).toBe(path.resolve('/srv/.pipebook'));
    expect(c.port).toBe(5170);
    expect(c.kernelUrl).toBe('http://127.0.0.1:5171');
  });

  it('[A2] a JWT secret or a JWKS URL selects token mode', () => {
    expect(loadConfig({ PIPEBOOK_JWT_SECRET: 's' }).authMode).toBe('token');
    expect(loadConfig({ PIPEBOOK_JWKS_URL: 'http://idp/jwks' }).authMode).toBe('token');
    expect(loadConfig({ PIPEBOOK_JWT_SECRET: 's', PIPEBOOK_HOST: '10.0.0.2' }).host).toBe('10.0.0.2');
  });

  it('refuses malformed numbers and durability modes with invalid_config', () => {
    expect(() => loadConfig({ PIPEBOOK_PORT: 'abc' })).toThrow(/PIPEBOOK_PORT/);
    expect(() => loadConfig({ PIPEBOOK_COLLAB_DURABILITY: 'sometimes' })).toThrow(/DURABILITY/);
  });
});
