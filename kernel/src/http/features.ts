// Extension point for feature routes on the kernel (Copilot). The kernel builds a KernelFeatureContext and calls
// mountKernelFeatures once, under /api.
import type { Request, Router } from 'express';
import type * as Y from 'yjs';
import { mountCopilotRoutes } from '../copilot/routes.ts';
import type { Engine, EngineInfo } from '../engines/engine.ts';

export type Role = 'owner' | 'editor' | 'viewer';

export interface AuthedUser {
  id: string;
  name: string;
}

export interface KernelFeatureContext {
  /** PIPEBOOK_HOME, absolute. */
  home: string;
  /** Where file sources live, as the kernel config resolved it (PIPEBOOK_DATA_DIR or PIPEBOOK_HOME/data), absolute. */
  dataDir: string;
  engines: {
    list(): EngineInfo[];
    /** Throws PipebookError('not_found') for an unknown name. */
    get(name: string): Engine;
  };
  /** The notebook as the kernel sees it (a live Yjs replica synced with the collaboration server) until release(). */
  openNotebook(notebookId: string): Promise<{ doc: Y.Doc; release: () => void }>;
  /** The caller, if they hold at least `need` on the notebook; throws PipebookError unauthorized/forbidden/not_found. */
  authorize(req: Request, notebookId: string, need: Role): Promise<AuthedUser>;
}

export function mountKernelFeatures(router: Router, ctx: KernelFeatureContext): void {
  mountCopilotRoutes(router, ctx);
}
