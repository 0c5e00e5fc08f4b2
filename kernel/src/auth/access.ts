// Who is calling, and what may they do on a notebook. Roles live in the collaboration server: the kernel forwards
// the caller's Authorization to its `GET /api/notebooks/:id/access` and caches the answer for a few seconds.
import { PipebookError } from '@pipebook/shared';
import { bearerToken, verifyUserToken } from '@pipebook/shared/auth/tokens';
import type { Request } from 'express';
import type { AuthMode } from '../config.ts';

export type Role = 'owner' | 'editor' | 'viewer';
export interface AuthedUser {
  id: string;
  name: string;
}
export interface Access {
  role: Role;
  user: AuthedUser;
}

const RANK: Record<Role, number> = { viewer: 1, editor: 2, owner: 3 };
export const LOCAL_USER: AuthedUser = { id: 'local', name: 'Local user' };

export function roleAtLeast(role: Role, need: Role): boolean {
  return RANK[role] >= RANK[need];
}

/** The caller's credentials as an Authorization header value: the header, or `?token=` (EventSource cannot set it). */
export function authorizationOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header) return header;
  const q = req.query?.token;
  return typeof q === 'string' && q ? `Bearer ${q}` : undefined;
}

export interface AccessCheckerOptions {
  collabUrl: string;
  auth: AuthMode;
  cacheMs: number;
  fetch?: typeof fetch;
}

export class AccessChecker {
  private readonly cache = new Map<string, { at: number; access?: Access; error?: PipebookError }>();
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: AccessCheckerOptions) {
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** The caller without a notebook (engines, catalog): the local user, or the verified token's subject. */
  async authenticate(req: Request): Promise<AuthedUser> {
    if (this.opts.auth.type === 'local') return LOCAL_USER;
    const token = bearerToken(authorizationOf(req));
    if (!token) throw new PipebookError('unauthorized', 'Sign in first: this request carries no token.');
    const u = await verifyUserToken(token, { jwtSecret: this.opts.auth.jwtSecret, jwksUrl: this.opts.auth.jwksUrl });
    return { id: u.id, name: u.name };
  }

  /** The caller's access to a notebook, if they hold at least `need`; throws unauthorized/forbidden/not_found. */
  async authorize(req: Request, notebookId: string, need: Role): Promise<Access> {
    const authorization = authorizationOf(req);
    if (this.opts.auth.type === 'token' && !authorization) {
      throw new PipebookError('unauthorized', 'Sign in first: this request carries no token.');
    }
    const access = await this.lookup(notebookId, authorization);
    if (!roleAtLeast(access.role, need)) {
      throw new PipebookError('forbidden', `You are a ${access.role} of this notebook; this needs ${need} access.`);
    }
    return access;
  }

  private async lookup(notebookId: string, authorization: string | undefined): Promise<Access> {
    const key = `${authorization ?? ''}\u0000${notebookId}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.opts.cacheMs) {
      if (hit.error) throw hit.error;
      return hit.access!;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    let res: Response;
    try {
      res = await this.fetchFn(`${this.opts.collabUrl}/api/notebooks/${encodeURIComponent(notebookId)}/access`, {
        headers: authorization ? { authorization } : {},
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      throw new PipebookError('engine_unavailable', 'The collaboration server is not reachable to check access.', {
        cause: e,
      });
    }
    if (res.ok) {
      const body = (await res.json()) as Partial<Access>;
      if (!body.role || !(body.role in RANK) || !body.user?.id) {
        throw new PipebookError('internal', 'The collaboration server sent an access answer the kernel cannot read.');
      }
      const access: Access = { role: body.role, user: { id: body.user.id, name: body.user.name ?? body.user.id } };
      this.cache.set(key, { at: now, access });
      return access;
    }
    await res.body?.cancel().catch(() => {});
    const error =
      res.status === 401
        ? new PipebookError('unauthorized', 'Your token was not accepted; sign in again.')
        : res.status === 403
          ? new PipebookError('forbidden', 'You do not have access to this notebook.')
          : res.status === 404
            ? new PipebookError('not_found', `Notebook ${notebookId} does not exist.`)
            : new PipebookError(
                'engine_unavailable',
                `The collaboration server answered ${res.status} to an access check.`,
              );
    if (res.status === 403 || res.status === 404) this.cache.set(key, { at: now, error });
    throw error;
  }
}
