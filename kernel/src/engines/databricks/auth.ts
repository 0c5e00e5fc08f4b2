// Databricks authentication: a personal access token, or OAuth machine-to-machine (client credentials at
// /oidc/v1/token with HTTP Basic client_id:client_secret), cached until shortly before it expires.
import { PipebookError } from '@pipebook/shared';

export interface DatabricksTokenSource {
  /** A token valid now; `forceNew` after the server rejected the cached one. */
  token(forceNew?: boolean): Promise<string>;
}

export class PatTokenSource implements DatabricksTokenSource {
  constructor(private readonly pat: string) {}
  async token(): Promise<string> {
    return this.pat;
  }
}

export interface OAuthM2MOptions {
  host: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Refresh when less than this is left (default 60 s, at most half the lifetime). */
  refreshBeforeMs?: number;
}

export class OAuthM2MTokenSource implements DatabricksTokenSource {
  private cached?: { token: string; expiresAt: number };
  private inflight?: Promise<string>;
  /** Tokens fetched so far (tests check caching). */
  fetched = 0;

  constructor(private readonly opts: OAuthM2MOptions) {}

  async token(forceNew = false): Promise<string> {
    const now = (this.opts.now ?? Date.now)();
    if (!forceNew && this.cached && now < this.cached.expiresAt) return this.cached.token;
    // Concurrent statements share one token request.
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const f = this.opts.fetch ?? globalThis.fetch;
    const basic = Buffer.from(
      `${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(this.opts.clientSecret)}`,
    ).toString('base64');
    let res: Response;
    try {
      res = await f(`${this.opts.host.replace(/\/+$/, '')}/oidc/v1/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${basic}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: 'grant_type=client_credentials&scope=all-apis',
      });
    } catch (err) {
      throw new PipebookError(
        'engine_unavailable',
        `Databricks token endpoint is unreachable: ${(err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      // The body may describe the client but never contains the secret we sent (it went in a header).
      throw new PipebookError(
        'unauthorized',
        `Databricks refused the OAuth client credentials (HTTP ${res.status}): ${text.slice(0, 200)}`,
      );
    }
    const body = JSON.parse(text) as { access_token?: string; expires_in?: number };
    if (!body.access_token)
      throw new PipebookError('unauthorized', 'Databricks token endpoint answered without an access_token');
    const lifetimeMs = (body.expires_in ?? 3600) * 1000;
    const margin = Math.min(this.opts.refreshBeforeMs ?? 60_000, lifetimeMs / 2);
    this.cached = { token: body.access_token, expiresAt: (this.opts.now ?? Date.now)() + lifetimeMs - margin };
    this.fetched++;
    return body.access_token;
  }
}
