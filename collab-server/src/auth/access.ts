// Who is calling and what they may do. Local mode: everyone is the one local user, owner of everything. Token mode:
// a verified JWT names the user; roles come from the store; the kernel's service token is an editor everywhere.

import { PipebookError } from '@pipebook/shared';
import {
  bearerToken,
  type TokenConfig,
  type TokenUser,
  verifyServiceToken,
  verifyUserToken,
} from '@pipebook/shared/auth/tokens';
import type { Request } from 'express';
import { decodeJwt } from 'jose';
import type { CollabConfig } from '../config.ts';
import type { Role } from '../http/features.ts';
import type { CollabStore } from '../store/store.ts';

export type Identity = TokenUser;

export const LOCAL_USER: Identity = Object.freeze({ id: 'local', name: 'Local user' });

const RANK: Record<Role, number> = { viewer: 1, editor: 2, owner: 3 };

export function atLeast(role: Role | undefined, need: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[need];
}

export class Access {
  private readonly tokens: TokenConfig;

  constructor(
    private readonly config: CollabConfig,
    private readonly store: CollabStore,
  ) {
    this.tokens = { jwtSecret: config.jwtSecret, jwksUrl: config.jwksUrl };
  }

  get mode(): 'local' | 'token' {
    return this.config.authMode;
  }

  /** The caller behind a token (or the local user). Throws PipebookError('unauthorized') with the reason. */
  async identify(token: string | undefined): Promise<Identity> {
    if (token && this.config.serviceSecret && isServiceClaim(token)) {
      return verifyServiceToken(token, this.config.serviceSecret);
    }
    if (this.config.authMode === 'local') return LOCAL_USER;
    if (!token) throw new PipebookError('unauthorized', 'Sign in: no token was sent');
    const user = await verifyUserToken(token, this.tokens);
    this.store.rememberUser(user.id, user.name);
    return user;
  }

  identifyRequest(req: Request): Promise<Identity> {
    const header = req.headers.authorization;
    const query = typeof req.query?.token === 'string' ? req.query.token : undefined;
    return this.identify(bearerToken(header) ?? query);
  }

  /** The caller's role on an existing notebook, or undefined. */
  roleOf(who: Identity, notebookId: string): Role | undefined {
    if (who.service) return 'editor';
    if (this.config.authMode === 'local') return 'owner';
    return this.store.roleOf(notebookId, who.id);
  }

  /** The caller's role, at least `need`; throws not_found / forbidden otherwise. */
  require(who: Identity, notebookId: string, need: Role): Role {
    if (!this.store.getNotebook(notebookId)) throw new PipebookError('not_found', `No notebook ${notebookId}`);
    const role = this.roleOf(who, notebookId);
    if (!role) throw new PipebookError('forbidden', 'You have no access to this notebook');
    if (!atLeast(role, need)) throw new PipebookError('forbidden', `This needs the ${need} role; you are ${role}`);
    return role;
  }
}

function isServiceClaim(token: string): boolean {
  try {
    return decodeJwt(token).svc === true;
  } catch {
    return false;
  }
}
