// The kernel's HTTP surface: thin handlers that validate at the edge (shared protocol schemas), check the caller,
// and call the run service, result store and engines. Documented in docs/api/kernel.md.
import { type ErrorBody, PipebookError, type PipebookErrorCode } from '@pipebook/shared';
import {
  ARROW_CONTENT_TYPE,
  type CancelResponse,
  type CatalogResponse,
  type EnginesResponse,
  KERNEL_PROTOCOL_HEADER,
  KERNEL_PROTOCOL_VERSION,
  RESULT_HEADERS,
  type ResultPage,
  RUN_EVENT_SSE_NAME,
  resultQuerySchema,
  runRequestSchema,
} from '@pipebook/shared/protocol/kernel';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AccessChecker } from '../auth/access.ts';
import type { DuckDBWarehouse } from '../engines/duckdb.ts';
import { engineSessions } from '../engines/livy/kernel-hooks.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import { jsonRows, pageToArrow, readPage } from '../results/pager.ts';
import type { ResultStore } from '../results/store.ts';
import type { Run, RunService } from '../runs/service.ts';

export interface RouteDeps {
  access: AccessChecker;
  runs: RunService;
  results: ResultStore;
  warehouse: DuckDBWarehouse;
  engines: EngineRegistry;
}

export function httpStatus(code: PipebookErrorCode): number {
  switch (code) {
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'cancelled':
      return 409;
    case 'too_large':
      return 413;
    case 'rate_limited':
      return 429;
    case 'engine_unavailable':
      return 503;
    case 'timeout':
      return 504;
    case 'internal':
      return 500;
    case 'bad_request':
    case 'invalid_name':
    case 'duplicate_name':
    case 'unknown_reference':
    case 'cycle':
    case 'invalid_config':
    case 'invalid_file':
    case 'path_outside_data':
    case 'sql_error':
    case 'blocked':
      return 400;
  }
}

function badRequest(issues: { path: PropertyKey[]; message: string }[]): PipebookError {
  const i = issues[0];
  const where = i?.path.length ? `${i.path.join('.')}: ` : '';
  return new PipebookError('bad_request', `${where}${i?.message ?? 'invalid request'}`);
}

export function sendError(res: Response, e: unknown): void {
  const err =
    e instanceof PipebookError
      ? e
      : new PipebookError('internal', 'The kernel hit an unexpected error; see its log for details.');
  if (!(e instanceof PipebookError)) console.error('[kernel]', e);
  const body: ErrorBody = err.toJSON();
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(httpStatus(err.code)).json({ error: body });
}

/** Writes a run's events as SSE (replaying those after `after`), ending the response after `run_finished`. */
function streamEvents(req: Request, res: Response, run: Run, after: number): void {
  res.status(200);
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  res.setHeader('connection', 'keep-alive');
  // Proxies must pass events through as they come.
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  res.write(': pipebook run events\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  let unsubscribe = () => {};
  let corked = false;
  const done = () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  unsubscribe = run.events.subscribe(after, (e) => {
    // Events emitted in the same tick (a short run's whole tail) leave in one packet.
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(`id: ${e.seq}\nevent: ${RUN_EVENT_SSE_NAME}\ndata: ${JSON.stringify(e)}\n\n`);
    if (e.type === 'run_finished') {
      done();
      res.end();
    }
  });
  if (run.events.isFinished() && !res.writableEnded) {
    done();
    res.end();
  }
  req.on('close', done);
}

export function kernelRouter(deps: RouteDeps): Router {
  const router = express.Router();
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader(KERNEL_PROTOCOL_HEADER, String(KERNEL_PROTOCOL_VERSION));
    next();
  });
  router.use(express.json({ limit: '64kb' }));

  router.post('/runs', async (req, res) => {
    const parsed = runRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(parsed.error.issues);
    const access = await deps.access.authorize(req, parsed.data.notebookId, 'editor');
    const created = await deps.runs.start(parsed.data, access.user);
    // A client that accepts an event stream gets the run's events in this response (the plan is in `run_queued`),
    // which saves the second request for short runs.
    if (req.headers.accept?.includes('text/event-stream')) {
      streamEvents(req, res, deps.runs.get(created.runId)!, 0);
      return;
    }
    res.status(201).json(created);
  });

  const runFor = async (req: Request, need: 'viewer' | 'editor') => {
    const run = deps.runs.get(String(req.params.runId));
    if (!run)
      throw new PipebookError(
        'not_found',
        `Run ${req.params.runId} does not exist (finished runs are kept 15 minutes).`,
      );
    await deps.access.authorize(req, run.notebookId, need);
    return run;
  };

  router.get('/runs/:runId', async (req, res) => {
    const run = await runFor(req, 'viewer');
    res.json(run.info());
  });

  router.post('/runs/:runId/cancel', async (req, res) => {
    await runFor(req, 'editor');
    const run = deps.runs.cancel(String(req.params.runId));
    const body: CancelResponse = { runId: run.runId, state: run.state };
    res.json(body);
  });

  router.get('/runs/:runId/events', async (req, res) => {
    const run = await runFor(req, 'viewer');
    const after = Number(req.headers['last-event-id'] ?? req.query.after ?? 0) || 0;
    streamEvents(req, res, run, after);
  });

  router.get('/results/:notebookId/:cellId', async (req, res) => {
    const notebookId = String(req.params.notebookId);
    const cellId = String(req.params.cellId);
    const q = resultQuerySchema.safeParse(req.query);
    if (!q.success) throw badRequest(q.error.issues);
    await deps.access.authorize(req, notebookId, 'viewer');
    const entry = deps.results.get(notebookId, cellId);
    if (!entry) throw new PipebookError('not_found', 'This cell has no result yet: run it first.', { cellId });
    deps.results.touch(entry);
    const unpin = deps.results.pin(entry.path);
    try {
      const page = await readPage(deps.warehouse, entry, q.data.offset, q.data.limit);
      if (q.data.format === 'arrow') {
        res.setHeader('content-type', ARROW_CONTENT_TYPE);
        res.setHeader(RESULT_HEADERS.rowCount, String(entry.rowCount));
        res.setHeader(RESULT_HEADERS.runId, entry.runId);
        res.setHeader(RESULT_HEADERS.inputHash, entry.inputHash);
        res.setHeader(RESULT_HEADERS.offset, String(q.data.offset));
        res.end(Buffer.from(pageToArrow(page)));
        return;
      }
      const body: ResultPage = {
        notebookId,
        cellId,
        runId: entry.runId,
        inputHash: entry.inputHash,
        engine: entry.engine,
        columns: page.columns,
        rowCount: entry.rowCount,
        offset: q.data.offset,
        limit: q.data.limit,
        rows: jsonRows(page.columns, page.rowsJson),
      };
      res.json(body);
    } finally {
      unpin();
    }
  });

  router.get('/engines', async (req, res) => {
    await deps.access.authenticate(req);
    const body: EnginesResponse = { engines: deps.engines.list() };
    res.json(body);
  });

  router.get('/engines/:name/catalog', async (req, res) => {
    await deps.access.authenticate(req);
    const engine = deps.engines.get(String(req.params.name));
    // Engines cache their catalog for minutes; a user who just created a table asks for it to be read again.
    const refresh = req.query.refresh;
    if (refresh === '1' || refresh === 'true') await engine.refreshCatalog?.();
    const tables = await engine.catalog(AbortSignal.timeout(30_000));
    const body: CatalogResponse = { engine: engine.info.name, tables };
    res.json(body);
  });

  router.get('/engines/:name/sessions', async (req, res) => {
    await deps.access.authenticate(req);
    res.json(await engineSessions(deps.engines.get(String(req.params.name))));
  });

  return router;
}
