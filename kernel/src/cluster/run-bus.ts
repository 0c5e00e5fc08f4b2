// Several kernels sharing runs through Redis (PIPEBOOK_REDIS_URL). A run request to any kernel goes onto one stream
// read by a consumer group of every kernel, so whichever kernel reads it first plans and executes it. The kernel that
// runs it copies every event to the run's own stream; any kernel serves that stream as SSE, so a client sees the
// events wherever its request lands. Requests about a run another kernel owns (its info, cancel) and pages of a
// result another kernel holds are forwarded to that kernel over HTTP. Design: docs/deployment.md.
import { randomUUID } from 'node:crypto';
import {
  type CellId,
  createOrigin,
  PipebookError,
  type PipebookErrorCode,
  type RunSummary,
  type RunUser,
  readRuns,
  setRuns,
} from '@pipebook/shared';
import { redisClientOptions } from '@pipebook/shared/cluster/redis-options';
import {
  KERNEL_PROTOCOL_HEADER,
  KERNEL_PROTOCOL_VERSION,
  RUN_EVENT_SSE_NAME,
  type RunCreated,
  type RunEvent,
  runRequestSchema,
} from '@pipebook/shared/protocol/kernel';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Redis } from 'ioredis';
import type * as Y from 'yjs';
import type { AccessChecker } from '../auth/access.ts';
import type { ResultStore } from '../results/store.ts';
import type { RunService, StartRunRequest } from '../runs/service.ts';

export const RUNS_STREAM = 'pipebook:runs';
export const RUNS_GROUP = 'kernels';
export const runKey = (runId: string) => `pipebook:run:{${runId}}`;
export const runEventsKey = (runId: string) => `pipebook:run:{${runId}}:events`;
const replyKey = (reqId: string) => `pipebook:run-request:{${reqId}}:reply`;
const resultOwnerKey = (notebookId: string, cellId: string) => `pipebook:result:{${notebookId}}:${cellId}`;
const kernelAliveKey = (kernelId: string) => `pipebook:kernel:{${kernelId}}:alive`;

/** How long a run request waits for a kernel to take it before the caller gets `engine_unavailable`. */
const TAKE_TIMEOUT_MS = 10_000;
/** Run metadata and event streams are kept this long after the run finished (as runs are in memory). */
const KEEP_FINISHED_S = 15 * 60;
const ALIVE_MS = 5000;
const KERNEL_ORIGIN = createOrigin('kernel');

interface RunRequestEntry {
  reqId: string;
  request: StartRunRequest;
  by: RunUser;
  /** After this the requester has given up: a kernel that reads it later drops it. */
  deadline: number;
}

type Reply = { ok: RunCreated } | { error: { code: PipebookErrorCode; message: string } };

export interface RunBusOptions {
  url: string;
  runs: RunService;
  access: AccessChecker;
  results: ResultStore;
  /** This kernel's base URL as other kernels reach it. */
  selfUrl: () => string;
  /** Runs this kernel starts at once from the shared stream (it then waits for one to finish). */
  maxActiveRuns: number;
  log: (msg: string) => void;
}

export class RedisRunBus {
  readonly kernelId = randomUUID();
  private readonly cmd: Redis;
  private readonly taker: Redis;
  private closed = false;
  private active = 0;
  private readonly loop: Promise<void>;
  private readonly alive: NodeJS.Timeout;
  private readonly blockers = new Set<Redis>();
  readonly stats = { taken: 0, requested: 0, eventsPublished: 0, forwarded: 0, localFallbacks: 0, lastError: '' };

  constructor(private readonly opts: RunBusOptions) {
    this.cmd = new Redis(opts.url, redisClientOptions(`pipebook-kernel-${this.kernelId}`));
    this.taker = new Redis(opts.url, redisClientOptions(`pipebook-kernel-taker-${this.kernelId}`));
    for (const c of [this.cmd, this.taker]) c.on('error', (e: Error) => (this.stats.lastError = e.message));
    this.alive = setInterval(() => void this.heartbeat(), ALIVE_MS / 2);
    this.alive.unref();
    this.cmd.on('ready', () => void this.heartbeat());
    this.loop = this.takeLoop();
  }

  get redisUp(): boolean {
    return this.cmd.status === 'ready' && this.taker.status === 'ready';
  }

  status() {
    return {
      kernel: this.kernelId,
      redis: this.redisUp ? 'up' : 'down',
      sharedRuns: this.redisUp,
      activeRuns: this.active,
      ...(this.redisUp || !this.stats.lastError ? {} : { lastError: this.stats.lastError }),
    };
  }

  renderMetrics(): string {
    const lines: string[] = [];
    const m = (name: string, type: string, help: string, v: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`);
    m(
      'pipebook_kernel_cluster_redis_up',
      'gauge',
      'Redis reachable: runs are shared (1) or not (0).',
      this.redisUp ? 1 : 0,
    );
    m(
      'pipebook_kernel_cluster_runs_taken_total',
      'counter',
      'Runs this kernel took from the shared stream.',
      this.stats.taken,
    );
    m(
      'pipebook_kernel_cluster_runs_requested_total',
      'counter',
      'Run requests put on the shared stream here.',
      this.stats.requested,
    );
    m(
      'pipebook_kernel_cluster_events_published_total',
      'counter',
      'Run events copied to Redis.',
      this.stats.eventsPublished,
    );
    m(
      'pipebook_kernel_cluster_local_fallbacks_total',
      'counter',
      'Runs started here without Redis (not shared with other kernels).',
      this.stats.localFallbacks,
    );
    m(
      'pipebook_kernel_cluster_forwarded_total',
      'counter',
      'Requests forwarded to the kernel that owns the run or result.',
      this.stats.forwarded,
    );
    return `${lines.join('\n')}\n`;
  }

  /** Run ids some live kernel is executing (so a notebook sweep does not cancel other kernels' runs). */
  async liveRunIds(runIds: string[]): Promise<Set<string>> {
    const live = new Set<string>();
    if (runIds.length === 0) return live;
    const p = this.cmd.pipeline();
    for (const id of runIds) p.hget(runKey(id), 'kernel');
    const owners = ((await p.exec()) ?? []).map(([, v]) => v as string | null);
    const p2 = this.cmd.pipeline();
    for (const o of owners) p2.exists(kernelAliveKey(o ?? '-'));
    const alive = ((await p2.exec()) ?? []).map(([, v]) => v === 1);
    runIds.forEach((id, i) => {
      if (owners[i] && alive[i]) live.add(id);
    });
    return live;
  }

  /**
   * Cancels the statuses left by runs no live kernel is executing. Runs of other live kernels are spared; while Redis
   * is unreachable nothing is swept (a spinner left a little longer beats cancelling another kernel's run).
   */
  sweepOrphans(doc: Y.Doc): void {
    const ids = [...new Set(Object.values(readRuns(doc)).map((r) => r.runId))];
    void this.liveRunIds(ids)
      .then((live) => {
        if (this.closed) return;
        // As RunService.sweepOrphans, with the runs of other live kernels counted as known.
        const orphans: Array<[CellId, RunSummary]> = [];
        for (const [cellId, r] of Object.entries(readRuns(doc))) {
          if (r.status !== 'queued' && r.status !== 'running') continue;
          if (this.opts.runs.get(r.runId) || live.has(r.runId)) continue;
          orphans.push([
            cellId as CellId,
            {
              ...r,
              status: 'cancelled',
              finishedAt: Date.now(),
              error: { code: 'cancelled', message: 'The kernel stopped while this cell was waiting or running.' },
            },
          ]);
        }
        if (orphans.length) setRuns(doc, orphans, KERNEL_ORIGIN);
      })
      .catch((e: Error) => {
        this.stats.lastError = e.message;
      });
  }

  /** Routes mounted before the kernel's own: they take over what needs another kernel and pass the rest on. */
  router(): Router {
    const r = express.Router();
    r.use((_req, res, next) => {
      res.setHeader(KERNEL_PROTOCOL_HEADER, String(KERNEL_PROTOCOL_VERSION));
      next();
    });
    r.post('/runs', express.json({ limit: '64kb' }), async (req, res, next) => {
      // Redis away: this kernel runs it itself (the single-kernel path), so runs degrade to "not shared", not "down".
      if (!this.redisUp) {
        this.stats.localFallbacks++;
        return next();
      }
      const parsed = runRequestSchema.safeParse(req.body ?? {});
      if (!parsed.success) throw new PipebookError('bad_request', parsed.error.issues[0]?.message ?? 'invalid request');
      const access = await this.opts.access.authorize(req, parsed.data.notebookId, 'editor');
      const created = await this.request(parsed.data, access.user);
      if (req.headers.accept?.includes('text/event-stream')) {
        await this.streamEvents(req, res, created.runId, 0);
        return;
      }
      res.status(201).json(created);
    });
    r.get('/runs/:runId/events', async (req, res, next) => {
      const runId = String(req.params.runId);
      if (this.opts.runs.get(runId)) return next();
      const notebookId = await this.cmd.hget(runKey(runId), 'notebookId');
      if (!notebookId) return next();
      await this.opts.access.authorize(req, notebookId, 'viewer');
      const after = Number(req.headers['last-event-id'] ?? req.query.after ?? 0) || 0;
      await this.streamEvents(req, res, runId, after);
    });
    const forwardRun = async (req: Request, res: Response, next: NextFunction) => {
      const runId = String(req.params.runId);
      if (this.opts.runs.get(runId)) return next();
      const url = await this.cmd.hget(runKey(runId), 'url');
      if (!url || url === this.opts.selfUrl()) return next();
      await this.forward(req, res, url);
    };
    r.get('/runs/:runId', forwardRun);
    r.post('/runs/:runId/cancel', forwardRun);
    r.get('/results/:notebookId/:cellId', async (req, res, next) => {
      const notebookId = String(req.params.notebookId);
      const cellId = String(req.params.cellId);
      // The kernel that computed the latest result owns it: a result this kernel holds from an earlier run is stale.
      const url = this.redisUp ? await this.cmd.get(resultOwnerKey(notebookId, cellId)) : null;
      if (!url || url === this.opts.selfUrl()) return next();
      try {
        await this.forward(req, res, url);
      } catch (e) {
        // The owner is gone: an older copy held here beats no page at all.
        if (!res.headersSent && this.opts.results.get(notebookId, cellId)) return next();
        throw e;
      }
    });
    return r;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.alive);
    for (const b of this.blockers) b.disconnect();
    this.taker.disconnect();
    await this.loop.catch(() => {});
    await this.cmd.del(kernelAliveKey(this.kernelId)).catch(() => {});
    this.cmd.disconnect();
  }

  /** A connection for one blocking read (a request waiting for its reply, an SSE client); queued until connected. */
  private blockingConnection(): Redis {
    return this.cmd.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  }

  // --- requesting ------------------------------------------------------------------------------------------------

  /** Puts the request on the shared stream and waits for the kernel that takes it to answer. */
  private async request(request: StartRunRequest, by: RunUser): Promise<RunCreated> {
    if (!this.redisUp)
      throw new PipebookError('engine_unavailable', 'Redis is unreachable: runs cannot be shared now.');
    const entry: RunRequestEntry = { reqId: randomUUID(), request, by, deadline: Date.now() + TAKE_TIMEOUT_MS };
    const reader = this.blockingConnection();
    this.blockers.add(reader);
    try {
      await this.cmd.xadd(RUNS_STREAM, 'MAXLEN', '~', 10_000, '*', 'r', JSON.stringify(entry));
      this.stats.requested++;
      const res = (await reader.xread('BLOCK', TAKE_TIMEOUT_MS, 'STREAMS', replyKey(entry.reqId), '0')) as Array<
        [string, Array<[string, string[]]>]
      > | null;
      const fields = res?.[0]?.[1]?.[0]?.[1];
      if (!fields) throw new PipebookError('engine_unavailable', 'No kernel took the run in time.');
      const reply = JSON.parse(fields[1]) as Reply;
      if ('error' in reply) throw new PipebookError(reply.error.code, reply.error.message);
      return reply.ok;
    } catch (e) {
      if (e instanceof PipebookError) throw e;
      throw new PipebookError('engine_unavailable', 'Redis went away while the run was being handed to a kernel.');
    } finally {
      this.blockers.delete(reader);
      reader.disconnect();
      void this.cmd.del(replyKey(entry.reqId)).catch(() => {});
    }
  }

  // --- taking ----------------------------------------------------------------------------------------------------

  private async takeLoop(): Promise<void> {
    let groupReady = false;
    while (!this.closed) {
      try {
        if (this.taker.status !== 'ready' || this.active >= this.opts.maxActiveRuns) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        if (!groupReady) {
          await this.taker.xgroup('CREATE', RUNS_STREAM, RUNS_GROUP, '$', 'MKSTREAM').catch((e: Error) => {
            if (!e.message.includes('BUSYGROUP')) throw e;
          });
          groupReady = true;
        }
        const res = (await this.taker.xreadgroup(
          'GROUP',
          RUNS_GROUP,
          this.kernelId,
          'COUNT',
          1,
          'BLOCK',
          2000,
          'STREAMS',
          RUNS_STREAM,
          '>',
        )) as Array<[string, Array<[string, string[]]>]> | null;
        for (const [, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            // Acknowledged at once: a request is only worth running while its requester still waits (TAKE_TIMEOUT_MS),
            // so one lost with a crashed kernel is answered by the requester's timeout, not retried by another.
            await this.taker.xack(RUNS_STREAM, RUNS_GROUP, id);
            await this.take(JSON.parse(fields[1]) as RunRequestEntry);
          }
        }
      } catch (e) {
        if (this.closed) return;
        this.stats.lastError = (e as Error).message;
        if ((e as Error).message.includes('NOGROUP')) groupReady = false;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async take(entry: RunRequestEntry): Promise<void> {
    if (Date.now() > entry.deadline) return;
    let reply: Reply;
    try {
      const created = await this.opts.runs.start(entry.request, entry.by);
      this.stats.taken++;
      await this.publishRun(created);
      reply = { ok: created };
    } catch (e) {
      const err = e instanceof PipebookError ? e : new PipebookError('internal', 'The kernel hit an unexpected error.');
      reply = { error: { code: err.code, message: err.message } };
    }
    await this.cmd.xadd(replyKey(entry.reqId), '*', 'r', JSON.stringify(reply));
    await this.cmd.pexpire(replyKey(entry.reqId), TAKE_TIMEOUT_MS * 2);
  }

  /** Copies the run's events, in order, to its stream; records who owns it and, as cells finish, their results. */
  private async publishRun(created: RunCreated): Promise<void> {
    const run = this.opts.runs.get(created.runId);
    if (!run) return;
    this.active++;
    await this.cmd.hset(runKey(run.runId), {
      notebookId: run.notebookId,
      kernel: this.kernelId,
      url: this.opts.selfUrl(),
    });
    let chain = Promise.resolve();
    const send = (e: RunEvent) => {
      const p = this.cmd.pipeline();
      p.xadd(runEventsKey(run.runId), '*', 'seq', String(e.seq), 'e', JSON.stringify(e));
      if (e.type === 'cell_finished' && e.status === 'done') {
        p.set(resultOwnerKey(run.notebookId, e.cellId), this.opts.selfUrl());
      }
      if (e.type === 'run_finished') {
        p.expire(runEventsKey(run.runId), KEEP_FINISHED_S);
        p.expire(runKey(run.runId), KEEP_FINISHED_S);
      }
      chain = chain
        .then(() => p.exec())
        .then(() => {
          this.stats.eventsPublished++;
        })
        .catch((err: Error) => {
          this.stats.lastError = err.message;
        });
      if (e.type === 'run_finished') void chain.finally(() => this.active--);
    };
    run.events.subscribe(0, send);
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.cmd.status !== 'ready') return;
    await this.cmd.set(kernelAliveKey(this.kernelId), this.opts.selfUrl(), 'PX', ALIVE_MS).catch(() => {});
  }

  // --- serving ---------------------------------------------------------------------------------------------------

  /** SSE of a run's events from its Redis stream: the same frames the kernel's own route writes. */
  private async streamEvents(req: Request, res: Response, runId: string, after: number): Promise<void> {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write(': pipebook run events\n\n');
    const reader = this.blockingConnection();
    this.blockers.add(reader);
    let open = true;
    req.on('close', () => {
      open = false;
      reader.disconnect();
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    try {
      let last = '0';
      while (open && !this.closed) {
        const got = (await reader.xread('COUNT', 500, 'BLOCK', 15_000, 'STREAMS', runEventsKey(runId), last)) as Array<
          [string, Array<[string, string[]]>]
        > | null;
        let finished = false;
        for (const [id, fields] of got?.[0]?.[1] ?? []) {
          last = id;
          const seq = Number(fields[1]);
          const json = fields[3];
          if (seq <= after) continue;
          res.write(`id: ${seq}\nevent: ${RUN_EVENT_SSE_NAME}\ndata: ${json}\n\n`);
          if ((JSON.parse(json) as RunEvent).type === 'run_finished') finished = true;
        }
        if (finished) break;
      }
    } catch (e) {
      if (open) this.stats.lastError = (e as Error).message;
    } finally {
      clearInterval(heartbeat);
      this.blockers.delete(reader);
      reader.disconnect();
      if (!res.writableEnded) res.end();
    }
  }

  /** Forwards the request as it came (method, auth, body) to the kernel at `base` and relays its answer. */
  private async forward(req: Request, res: Response, base: string): Promise<void> {
    this.stats.forwarded++;
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'accept', 'content-type', 'last-event-id']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const upstream = await fetch(`${base}${req.baseUrl}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : JSON.stringify(req.body ?? {}),
    }).catch(() => {
      throw new PipebookError('engine_unavailable', 'The kernel that holds this is unreachable.');
    });
    res.status(upstream.status);
    upstream.headers.forEach((v, k) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) res.setHeader(k, v);
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  }
}
