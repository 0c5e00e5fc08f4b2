// HTTP transport for the Copilot under /api/copilot: JSON for status and accepting a proposal, SSE for generate,
// fix and explain (progress tokens, attempts, check results, the proposal, done). Closing the request or calling
// the cancel route aborts the model call through its AbortSignal.
import { type ErrorBody, PipebookError, type PipebookErrorCode } from '@pipebook/shared';
import express, { type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { KernelFeatureContext, Role } from '../http/features.ts';
import { createCopilotCompiler } from './compiler.ts';
import { type CopilotConfig, copilotStatus, HOW_TO_CONFIGURE, isConfigured, loadCopilotConfig } from './config.ts';
import {
  acceptBody,
  COPILOT_PROTOCOL_VERSION,
  type CopilotEvent,
  explainBody,
  fixBody,
  generateBody,
  type Proposal,
} from './protocol.ts';
import {
  applyProposal,
  CatalogCache,
  type CopilotCall,
  type CopilotDeps,
  explainCell,
  fixCell,
  generateCells,
} from './service.ts';
import type { CopilotCompiler } from './verify.ts';

export interface CopilotRoutesOptions {
  /** Defaults to the shared compiler resolving file sources inside the kernel's data folder (`ctx.dataDir`). */
  compiler?: CopilotCompiler;
  /** Defaults to process.env plus the config file in PIPEBOOK_HOME (pipebook.config.yaml, .yml or .json). */
  config?: CopilotConfig | { missing: string };
  /** How long an unaccepted proposal is kept. */
  proposalTtlMs?: number;
}

const HEARTBEAT_MS = 15_000;

const STATUS: Record<PipebookErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  invalid_name: 400,
  duplicate_name: 409,
  unknown_reference: 400,
  cycle: 400,
  invalid_config: 503,
  invalid_file: 400,
  path_outside_data: 400,
  sql_error: 400,
  engine_unavailable: 502,
  cancelled: 499,
  timeout: 504,
  blocked: 409,
  internal: 500,
};

export function errorBody(err: unknown): ErrorBody {
  if (err instanceof PipebookError) return err.toJSON();
  if (err instanceof Error && err.name === 'AbortError') return { code: 'cancelled', message: 'Cancelled.' };
  return { code: 'internal', message: 'The Copilot failed unexpectedly.' };
}

function sendError(res: Response, err: unknown) {
  const body = errorBody(err);
  res.status(STATUS[body.code] ?? 500).json({ error: body });
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new PipebookError('bad_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return r.data;
}

class ProposalStore {
  private items = new Map<string, { proposal: Proposal; at: number }>();
  constructor(private readonly ttlMs: number) {}
  put(p: Proposal) {
    const now = Date.now();
    for (const [id, x] of this.items) if (now - x.at > this.ttlMs) this.items.delete(id);
    this.items.set(p.id, { proposal: p, at: now });
  }
  take(id: string, notebookId: string): Proposal {
    const x = this.items.get(id);
    if (!x || x.proposal.notebookId !== notebookId || Date.now() - x.at > this.ttlMs)
      throw new PipebookError('not_found', 'This proposal expired or was already used; ask again.');
    this.items.delete(id);
    return x.proposal;
  }
}

export function mountCopilotRoutes(router: Router, ctx: KernelFeatureContext, opts: CopilotRoutesOptions = {}): void {
  const config = opts.config ?? loadCopilotConfig(process.env, ctx.home);
  const compiler = opts.compiler ?? createCopilotCompiler({ dataDir: ctx.dataDir });
  const proposals = new ProposalStore(opts.proposalTtlMs ?? 60 * 60_000);
  const running = new Map<string, { controller: AbortController }>();
  const catalogs = new CatalogCache();

  router.use('/copilot', express.json({ limit: '1mb' }));
  router.get('/copilot/status', (_req, res) => {
    res.json(copilotStatus(config));
  });

  function requireConfig(): CopilotDeps {
    if (!isConfigured(config))
      throw new PipebookError(
        'invalid_config',
        `The Copilot is not configured (${config.missing}) ${HOW_TO_CONFIGURE}`,
      );
    return { config, engines: ctx.engines, compiler, catalogs };
  }

  /** Validates and authorizes as JSON errors, then switches to SSE and runs `work`. */
  function streamed<T extends z.ZodType>(
    need: Role,
    schema: T,
    work: (deps: CopilotDeps, call: CopilotCall, body: z.infer<T>) => Promise<CopilotEvent | undefined>,
  ) {
    return async (req: Request, res: Response) => {
      const notebookId = String(req.params.notebookId);
      let deps: CopilotDeps;
      let body: z.infer<T>;
      let user: { id: string; name: string };
      try {
        deps = requireConfig();
        body = parse(schema, req.body);
        user = await ctx.authorize(req, notebookId, need);
      } catch (err) {
        return sendError(res, err);
      }
      const requestId = `cop_${crypto.randomUUID()}`;
      const controller = new AbortController();
      running.set(requestId, { controller });
      res.on('close', () => controller.abort());
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      res.flushHeaders();
      const emit = (e: CopilotEvent) => {
        if (!res.writableEnded) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      emit({ type: 'started', requestId, version: COPILOT_PROTOCOL_VERSION });
      // A comment line now and then keeps proxies from closing a stream while the model thinks before its first token.
      const heartbeat = setInterval(() => {
        if (!res.writableEnded) res.write(': keep-alive\n\n');
      }, HEARTBEAT_MS);
      let notebook: Awaited<ReturnType<KernelFeatureContext['openNotebook']>> | undefined;
      try {
        notebook = await ctx.openNotebook(notebookId);
        const last = await work(deps, { doc: notebook.doc, notebookId, user, signal: controller.signal, emit }, body);
        if (last) emit(last);
        emit({ type: 'done' });
      } catch (err) {
        emit({
          type: 'error',
          error: controller.signal.aborted ? { code: 'cancelled', message: 'Cancelled.' } : errorBody(err),
        });
      } finally {
        clearInterval(heartbeat);
        notebook?.release();
        running.delete(requestId);
        res.end();
      }
    };
  }

  router.post(
    '/copilot/notebooks/:notebookId/generate',
    streamed('editor', generateBody, async (deps, call, body) => {
      const proposal = await generateCells(deps, call, body);
      proposals.put(proposal);
      return { type: 'proposal', proposal };
    }),
  );
  router.post(
    '/copilot/notebooks/:notebookId/fix',
    streamed('editor', fixBody, async (deps, call, body) => {
      const proposal = await fixCell(deps, call, body);
      proposals.put(proposal);
      return { type: 'proposal', proposal };
    }),
  );
  router.post(
    '/copilot/notebooks/:notebookId/explain',
    streamed('viewer', explainBody, async (deps, call, body) => ({
      type: 'explanation',
      text: await explainCell(deps, call, body),
    })),
  );

  router.post('/copilot/notebooks/:notebookId/proposals/:proposalId/accept', async (req, res) => {
    const notebookId = String(req.params.notebookId);
    try {
      const body = parse(acceptBody, req.body);
      const user = await ctx.authorize(req, notebookId, 'editor');
      const proposal = proposals.take(String(req.params.proposalId), notebookId);
      const notebook = await ctx.openNotebook(notebookId);
      try {
        const cellIds = applyProposal(notebook.doc, proposal, user, body);
        res.json({ cellIds });
      } catch (err) {
        proposals.put(proposal); // still acceptable, e.g. with allowFailing
        throw err;
      } finally {
        notebook.release();
      }
    } catch (err) {
      sendError(res, err);
    }
  });

  // The request id is a random UUID only the asker received, so knowing it is the permission to cancel.
  router.post('/copilot/requests/:requestId/cancel', (req, res) => {
    const r = running.get(String(req.params.requestId));
    if (!r) return sendError(res, new PipebookError('not_found', 'No such running Copilot request.'));
    r.controller.abort();
    res.json({ cancelled: true });
  });
}
