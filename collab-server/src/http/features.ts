// Extension point for feature routes on the collaboration server (Git snapshots, history, export, remotes).
// The server builds a FeatureContext and calls mountFeatureRoutes once, under /api.
import type { Request, Router } from 'express';
import type * as Y from 'yjs';
import { gitRoutes } from '../git/routes.ts';

export type Role = 'owner' | 'editor' | 'viewer';

export interface AuthedUser {
  id: string;
  name: string;
}

export interface FeatureContext {
  /** PIPEBOOK_HOME, absolute. */
  home: string;
  /**
   * The live document of a notebook, kept loaded until release(). Changes made to it are stored and broadcast like
   * any client's; pass a typed origin (shared/notebook/origins.ts) to doc.transact.
   */
  openDoc(notebookId: string): Promise<{ doc: Y.Doc; release: () => void }>;
  /** The caller, if they hold at least `need` on the notebook; throws PipebookError unauthorized/forbidden/not_found. */
  authorize(req: Request, notebookId: string, need: Role): Promise<AuthedUser>;
  /** One instance at a time under scale-out (see DocAccess.exclusive in git/service.ts); absent otherwise. */
  exclusive?(key: string, ttlMs: number, fn: () => Promise<void>): Promise<boolean>;
  /** The same, waiting for the lease (see DocAccess.exclusiveWaiting in git/service.ts); absent otherwise. */
  exclusiveWaiting?<T>(key: string, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T>;
}

export function mountFeatureRoutes(router: Router, ctx: FeatureContext): void {
  // Git: /api/notebooks/:id/git/... (docs/git.md).
  router.use(gitRoutes(ctx));
}
