// startCollabServer: the whole collab server on one port (document socket, notebook API, kernel proxy, built app).
// main.ts only reads the environment and calls this; tests and benchmarks call it directly or through main.ts.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { demoNotebookFile } from '@pipebook/shared';
import express from 'express';
import { Access, LOCAL_USER } from './auth/access.ts';
import { RedisDocBus } from './cluster/redis-doc-bus.ts';
import type { CollabConfig } from './config.ts';
import { errorMiddleware, sendError } from './http/errors.ts';
import { type FeatureContext, mountFeatureRoutes } from './http/features.ts';
import { KERNEL_PREFIXES, kernelProxy } from './http/kernel-proxy.ts';
import { createNotebook, notebookRoutes } from './http/notebooks.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import type { CollabStore } from './store/store.ts';
import { DocHub, type Logger } from './sync/hub.ts';
import { CollabMetrics } from './sync/metrics.ts';
import { attachCollabSocket } from './sync/socket.ts';

export interface CollabServer {
  url: string;
  port: number;
  config: CollabConfig;
  hub: DocHub;
  store: CollabStore;
  metrics: CollabMetrics;
  /** Commits and compacts every document, closes sockets, the store and the port. */
  close(): Promise<void>;
}

export const consoleLogger: Logger = {
  info: (m) => console.log(`[collab] ${m}`),
  warn: (m) => console.warn(`[collab] ${m}`),
  error: (m, e) => console.error(`[collab] ${m}`, e instanceof Error ? e.message : (e ?? '')),
};

export async function startCollabServer(
  config: CollabConfig,
  options: { logger?: Logger; store?: CollabStore } = {},
): Promise<CollabServer> {
  const log = options.logger ?? consoleLogger;
  const store =
    options.store ??
    new SqliteStore(path.join(config.home, 'collab'), {
      durability: config.durability,
      fsyncIntervalMs: config.fsyncIntervalMs,
      onBackgroundError: (e) => log.error('store background work failed', e),
    });
  const metrics = new CollabMetrics();
  // Scale-out (docs/deployment.md): only with PIPEBOOK_REDIS_URL; the store must then be shared by every instance.
  const cluster = config.redisUrl
    ? new RedisDocBus({
        url: config.redisUrl,
        store,
        sqliteFile: path.join(config.home, 'collab', 'collab.sqlite'),
        log,
      })
    : undefined;
  const hub = new DocHub(store, config.limits, metrics, log, cluster);
  cluster?.attach(hub);
  const access = new Access(config, store);

  const seedDemo = () => {
    if (store.countNotebooks() !== 0) return;
    createNotebook(store, LOCAL_USER, demoNotebookFile());
    log.info('created the demo notebook');
  };
  if (config.seedDemo && config.authMode === 'local') {
    // Scale-out: instances starting together on an empty shared store would each create one.
    if (cluster) await cluster.onceAcrossInstances('pipebook:seed-demo', seedDemo);
    else seedDemo();
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({
      ok: true,
      docsLoaded: hub.loadedCount,
      connections: metrics.connections,
      ...(cluster ? { cluster: cluster.status() } : {}),
    });
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render(hub.loadedCount) + (cluster?.renderMetrics() ?? ''));
  });

  // Mounted before the JSON parser: kernel requests stream through untouched.
  const proxy = kernelProxy(config.kernelUrl);
  for (const prefix of KERNEL_PREFIXES) app.use(prefix, proxy);

  const api = express.Router();
  api.use(express.json({ limit: '20mb' }));
  api.use(notebookRoutes({ store, hub, access }));
  const features: FeatureContext = {
    home: config.home,
    openDoc: async (notebookId) => hub.hold(notebookId),
    authorize: async (req, notebookId, need) => {
      const user = await access.identifyRequest(req);
      access.require(user, notebookId, need);
      return { id: user.id, name: user.name };
    },
    ...(cluster
      ? {
          exclusive: (key, ttlMs, fn) => cluster.runExclusive(key, ttlMs, fn),
          exclusiveWaiting: (key, ttlMs, waitMs, fn) => cluster.runExclusiveWaiting(key, ttlMs, waitMs, fn),
        }
      : {}),
  };
  mountFeatureRoutes(api, features);
  api.use((_req, res) => sendError(res, 'not_found', 'No such API route'));
  app.use('/api', api);

  // The built client, with SPA fallback for client-side routes.
  app.use(express.static(config.distDir, { index: false, fallthrough: true }));
  app.get(/^(?!\/api\/|\/collab\/).*/, (_req, res, next) => {
    const index = path.join(config.distDir, 'index.html');
    if (!fs.existsSync(index)) return next();
    res.sendFile(index);
  });
  app.use((_req, res) => sendError(res, 'not_found', 'Not found'));
  app.use(errorMiddleware(log));

  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  const socket = attachCollabSocket(server, { hub, access, limits: config.limits, metrics, log });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    config,
    hub,
    store,
    metrics,
    close() {
      closing ??= (async () => {
        hub.close();
        await cluster?.close();
        socket.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store.sync();
        store.close();
      })();
      return closing;
    },
  };
}
