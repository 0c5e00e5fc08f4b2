// Snowflake SQL API v2 details the test server needs outside its request loop: auth error bodies, the JWT's account
// normalisation and fingerprint, multi-statement splitting, and DuckDB errors told the way Snowflake tells them.
import { createHash, type KeyObject } from 'node:crypto';
import { parseDuckDbError } from '../../contract/warehouse.ts';

export const JWT_INVALID = { code: '390144', message: 'JWT token is invalid.' };
export const OAUTH_INVALID = { code: '390303', message: 'Invalid OAuth access token. [pipebook-test-server]' };

export function normalizeAccountForJwt(account: string): string {
  let a = account;
  if (/\.global$/i.test(a) && a.includes('-')) a = a.slice(0, a.indexOf('-'));
  if (a.includes('.')) a = a.slice(0, a.indexOf('.'));
  return a.toUpperCase();
}

export function fingerprintOf(key: KeyObject): string {
  return `SHA256:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64')}`;
}

export function lowerKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Splits on `;` outside quotes (enough for the test server's multi-statement requests). */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ';') {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** DuckDB's error, told the way Snowflake tells it (code, SQL state, "line L at position P"). */
export function toSnowflakeError(message: string): { code: string; sqlState: string; message: string } {
  const e = parseDuckDbError(message);
  const where = e.line !== undefined ? ` line ${e.line} at position ${e.position}` : '';
  switch (e.kind) {
    case 'parser':
      return {
        code: '001003',
        sqlState: '42000',
        message: `SQL compilation error:\nsyntax error${where} unexpected '${e.token ?? ''}'.`,
      };
    case 'catalog':
      return {
        code: '002003',
        sqlState: '42S02',
        message: `SQL compilation error:${where ? ` error${where}` : ''}\nObject '${(e.token ?? '').toUpperCase()}' does not exist or not authorized.`,
      };
    case 'binder':
      return {
        code: '000904',
        sqlState: '42000',
        message: `SQL compilation error: error${where}\ninvalid identifier '${(e.token ?? '').toUpperCase()}'`,
      };
    case 'conversion':
      return { code: '100038', sqlState: '22018', message: e.text };
    case 'other':
      return { code: '100000', sqlState: 'XX000', message: e.text };
  }
}
