// Builds a kernel from its config: warehouse, engines, result store, notebook replicas, run service and HTTP routes.
// main.ts only calls startKernel; tests call it too and close() what it returns.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { PipebookError } from '@pipebook/shared';
import { signServiceToken } from '@pipebook/shared/auth/tokens';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AccessChecker } from './auth/access.ts';
import { RedisRunBus } from './cluster/run-bus.ts';
import type { KernelConfig } from './config.ts';
import { ensureDemoData } from './demo-data.ts';
import { DocBridge } from './doc-bridge.ts';
import { DuckDBEngine, DuckDBWarehouse } from './engines/duckdb.ts';
import { releaseNotebookSessions, wireSessionLossStaleness } from './engines/livy/kernel-hooks.ts';
import { EngineRegistry, registeredEngineFactories } from './engines/registry.ts';
import { createSessionGrace } from './engines/session-grace.ts';
import { type KernelFeatureContext, mountKernelFeatures } from './http/features.ts';
import { kernelRouter, sendError } from './http/routes.ts';
import { ResultStore } from './results/store.ts';
import type { NotebookCompiler } from './runs/compiler.ts';
import { RunQueue } from './runs/queue.ts';
import { RunService } from './runs/service.ts';
import { sharedCompiler } from './runs/shared-compiler.ts';
import { samplesRouter } from './samples/routes.ts';

export interface KernelHandle {
  url: string;
  port: number;
  config: KernelConfig;
  engines: EngineRegistry;
  warehouse: DuckDBWarehouse;
  results: ResultStore;
  runs: RunService;
  bridge: DocBridge;
  close(): Promise<void>;
}

export interface KernelOverrides {
  compiler?: NotebookCompiler;
  log?: (msg: string) => void;
}

export async function startKernel(config: KernelConfig, overrides: KernelOverrides = {}): Promise<KernelHandle> {
  const log = overrides.log ?? ((m: string) => console.log(`[kernel] ${m}`));
  mkdirSync(config.kernelDir, { recursive: true });
  mkdirSync(config.resultsDir, { recursive: true });
  mkdirSync(config.dataDir, { recursive: true });

  const warehouse = await DuckDBWarehouse.open({
    path: config.warehousePath,
    allowedDirectories: [config.dataDir, config.resultsDir],
  });
  if (config.demoData && (await ensureDemoData(warehouse, { orders: config.demoOrders, dataDir: config.dataDir }))) {
    log('generated the demo tables (customers, orders, products) and files in the data folder');
  }
  const engines = new EngineRegistry(new DuckDBEngine(warehouse));
  await engines.addFromFactories(registeredEngineFactories(), { home: config.home, env: process.env }, (e) =>
    log(`an engine could not be configured: ${e instanceof Error ? e.message : String(e)}`),
  );
  const results = new ResultStore(config.resultsDir, config.resultsMaxBytes);
  const unwires: Array<() => void> = [];

  let serviceToken: Promise<string> | undefined;
  let runs: RunService | undefined;
  let cluster: RedisRunBus | undefined;
  const sessionGrace = createSessionGrace(config.sparkIdleMs, (id) => {
    void releaseNotebookSessions(
      engines.list().map((info) => engines.get(info.name)),
      id,
      (e, engine) =>
        log(
          `could not free the Spark sessions of ${id} on ${engine.info.name}: ${e instanceof Error ? e.message : String(e)}`,
        ),
    );
  });
  unwires.push(() => sessionGrace.close());
  const bridge = new DocBridge({
    collabUrl: config.collabUrl,
    idleMs: config.docIdleMs,
    onFirstSync: (_id, doc) => (cluster ? cluster.sweepOrphans(doc) : runs?.sweepOrphans(doc)),
    // A notebook nobody runs any more gives back its Spark sessions, after a grace period (docs/spark.md).
    onReplicaClosed: (id) => sessionGrace.closed(id),
    token: async () => {
      if (!config.serviceSecret) return undefined;
      serviceToken ??= signServiceToken(config.serviceSecret);
      return serviceToken;
    },
  });
  const access = new AccessChecker({ collabUrl: config.collabUrl, auth: config.auth, cacheMs: config.accessCacheMs });
  const queue = new RunQueue(config.maxConcurrentCells);
  runs = new RunService({
    openNotebook: (id) => {
      sessionGrace.opened(id);
      return bridge.open(id);
    },
    compiler: overrides.compiler ?? sharedCompiler,
    engines,
    results,
    warehouse,
    queue,
    dataDir: config.dataDir,
  });

  // Spark engines report lost sessions; the cells whose results lived there are marked stale in their notebooks.
  for (const info of engines.list()) {
    unwires.push(
      wireSessionLossStaleness(
        engines.get(info.name),
        (id) => bridge.open(id),
        (e) => log(`could not mark cells stale after a lost session: ${e instanceof Error ? e.message : String(e)}`),
      ),
    );
  }

  // Scale-out (docs/deployment.md): only with PIPEBOOK_REDIS_URL.
  let selfUrl = '';
  if (config.redisUrl) {
    cluster = new RedisRunBus({
      url: config.redisUrl,
      runs,
      access,
      results,
      selfUrl: () => selfUrl,
      maxActiveRuns: config.maxConcurrentCells,
      log,
    });
  }

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({
      ok: true,
      queue: queue.stats(),
      notebooksOpen: bridge.openCount(),
      ...(cluster ? { cluster: cluster.status() } : {}),
    });
  });
  if (cluster) {
    const c = cluster;
    app.get('/metrics', (_req, res) => {
      res.type('text/plain; version=0.0.4').send(c.renderMetrics());
    });
    app.use('/api', c.router());
  }
  const api = kernelRouter({ access, runs, results, warehouse, engines });
  const ctx: KernelFeatureContext = {
    home: config.home,
    dataDir: config.dataDir,
    engines: { list: () => engines.list(), get: (name) => engines.get(name) },
    openNotebook: (id) => {
      sessionGrace.opened(id);
      return bridge.open(id);
    },
    authorize: async (req, notebookId, need) => (await access.authorize(req, notebookId, need)).user,
  };
  mountKernelFeatures(api, ctx);
  api.use(samplesRouter({ access, openNotebook: (id) => bridge.open(id), warehouse, engines, ...config }));
  app.use('/api', api);
  app.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new PipebookError('not_found', 'No such kernel endpoint.'));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e =
      (err as { type?: string }).type === 'entity.parse.failed'
        ? new PipebookError('bad_request', 'The request body is not valid JSON.')
        : err;
    sendError(res, e);
  });

  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host}:${port}`;
  selfUrl = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    config,
    engines,
    warehouse,
    results,
    runs,
    bridge,
    close() {
      closing ??= (async () => {
        for (const u of unwires) u();
        await cluster?.close();
        await runs.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await bridge.close();
        await results.flush();
        await engines.close();
        await warehouse.close();
      })();
      return closing;
    },
  };
}
