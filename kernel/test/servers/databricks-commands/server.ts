// A Databricks Command Execution API 1.2 server (protocols brief §2, "PySpark on Databricks"): Bearer auth, execution
// contexts that boot Pending -> Running (or Error), commands queued one at a time per context
// (Queued -> Running -> Finished | Cancelling -> Cancelled), results of type text, table or error (a user exception is
// `Finished` with resultType `error`: HTML summary, traceback in `cause`), context destroy, and context loss on demand
// (driver restart). Spark is the stand-in from ../livy/standin.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PythonResult, SparkStandin, type SparkTable, stringifySpark } from '../livy/standin/spark-standin.ts';

export type ContextStatus = 'Pending' | 'Running' | 'Error';
export type CommandStatus = 'Queued' | 'Running' | 'Cancelling' | 'Finished' | 'Cancelled' | 'Error';

export interface CommandServerOptions {
  token: string;
  clusterIds?: string[];
  contextBootMs?: number;
  /** How long a command runs before it can finish. */
  commandDurationMs?: (command: string, language: string) => number;
  seedSql?: string[];
}

interface TestCommand {
  id: string;
  command: string;
  language: string;
  status: CommandStatus;
  results: Record<string, unknown> | null;
  started: number;
}

export interface TestContext {
  id: string;
  clusterId: string;
  language: string;
  status: ContextStatus;
  commands: TestCommand[];
  running?: TestCommand;
  standin?: Promise<SparkStandin>;
  timers: Set<NodeJS.Timeout>;
}

export interface CommandTestServer {
  url: string;
  options: CommandServerOptions;
  contexts: Map<string, TestContext>;
  /** Every command a context received, in order. */
  commands(contextId: string): string[];
  /** The driver restarted: the context is gone (404 afterwards) and its state with it. */
  loseContext(contextId: string): void;
  close(): Promise<void>;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function tableResult(t: SparkTable, truncated = false) {
  return {
    resultType: 'table',
    data: t.rows,
    schema: t.columns.map((c) => ({ name: c.name, type: JSON.stringify(c.type), metadata: '{}' })),
    truncated,
    isJsonSchema: true,
  };
}

function pythonResult(r: PythonResult) {
  if (r.status === 'error') {
    return {
      resultType: 'error',
      summary: `<span class="ansi-red-fg">${esc(r.ename)}</span>: ${esc(r.evalue)}`,
      cause: `---------------------------------------------------------------------------\n${r.traceback.join('')}`,
    };
  }
  if (r.table) return tableResult(r.table, r.table.rows.length >= 1000);
  return { resultType: 'text', data: r.text.replace(/\n$/, '') };
}

export async function startCommandServer(
  options: CommandServerOptions,
  listen: { port?: number; host?: string } = {},
): Promise<CommandTestServer> {
  const instance = await SparkStandin.createInstance(options.seedSql ?? []);
  const contexts = new Map<string, TestContext>();
  let nextId = 1;
  let closed = false;

  const later = (c: TestContext, ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      c.timers.delete(t);
      if (!closed) fn();
    }, ms);
    c.timers.add(t);
  };

  const endContext = (c: TestContext) => {
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
    c.running = undefined;
    void c.standin?.then((s) => s.close());
    c.standin = undefined;
  };

  async function execute(c: TestContext, cmd: TestCommand) {
    c.standin ??= SparkStandin.open(instance);
    const standin = await c.standin;
    if (cmd.language === 'sql') {
      try {
        return tableResult(await standin.sql(cmd.command, 1000));
      } catch (e) {
        const msg = (e as Error).message;
        return { resultType: 'error', summary: `<span class="ansi-red-fg">Error</span>: ${esc(msg)}`, cause: msg };
      }
    }
    if (cmd.language === 'python') return pythonResult(await standin.runPython(cmd.command));
    return {
      resultType: 'error',
      summary: `The Pipebook test stand-in runs python and sql commands, not ${esc(cmd.language)}.`,
      cause: '',
    };
  }

  function pump(c: TestContext) {
    if (c.running || c.status !== 'Running') return;
    const cmd = c.commands.find((x) => x.status === 'Queued');
    if (!cmd) return;
    c.running = cmd;
    cmd.status = 'Running';
    cmd.started = Date.now();
    const duration = options.commandDurationMs?.(cmd.command, cmd.language) ?? 0;
    let results: Record<string, unknown> | null = null;
    let done = false;
    const check = () => {
      if (c.running !== cmd) return;
      if (cmd.status === 'Cancelling') {
        cmd.status = 'Cancelled';
        cmd.results = null;
      } else if (done && Date.now() - cmd.started >= duration) {
        cmd.status = 'Finished';
        cmd.results = results;
      } else {
        return later(c, 15, check);
      }
      c.running = undefined;
      pump(c);
    };
    void execute(c, cmd).then(
      (r) => {
        results = r;
        done = true;
      },
      (e) => {
        results = { resultType: 'error', summary: esc(String(e)), cause: String(e) };
        done = true;
      },
    );
    later(c, 0, check);
  }

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(stringifySpark(body));
  };
  const bad = (res: http.ServerResponse, status: number, error_code: string, message: string) =>
    send(res, status, { error_code, message });

  async function body(req: http.IncomingMessage): Promise<Record<string, string>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : {};
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        return bad(res, 401, 'UNAUTHENTICATED', 'Invalid access token.');
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const q = req.method === 'GET' ? Object.fromEntries(url.searchParams) : await body(req);
      const clusters = options.clusterIds ?? ['0101-120000-pipebook'];
      if (!clusters.includes(q.clusterId)) {
        return bad(res, 400, 'INVALID_PARAMETER_VALUE', `Cluster ${q.clusterId ?? '(missing)'} does not exist`);
      }
      const route = `${req.method} ${url.pathname}`;
      if (route === 'POST /api/1.2/contexts/create') {
        const c: TestContext = {
          id: String(nextId++).padStart(19, '8'),
          clusterId: q.clusterId,
          language: q.language ?? 'python',
          status: 'Pending',
          commands: [],
          timers: new Set(),
        };
        contexts.set(c.id, c);
        later(c, options.contextBootMs ?? 40, () => {
          c.status = 'Running';
          pump(c);
        });
        return send(res, 200, { id: c.id });
      }
      const c = contexts.get(q.contextId);
      if (!c || c.clusterId !== q.clusterId) {
        return bad(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Context ${q.contextId ?? '(missing)'} not found`);
      }
      if (route === 'GET /api/1.2/contexts/status') return send(res, 200, { id: c.id, status: c.status });
      if (route === 'POST /api/1.2/contexts/destroy') {
        endContext(c);
        contexts.delete(c.id);
        return send(res, 200, { id: c.id });
      }
      if (route === 'POST /api/1.2/commands/execute') {
        if (c.status !== 'Running') return bad(res, 400, 'INVALID_STATE', `Context ${c.id} is ${c.status}`);
        if (typeof q.command !== 'string') return bad(res, 400, 'INVALID_PARAMETER_VALUE', 'command is required');
        const cmd: TestCommand = {
          id: `cmd-${c.id}-${c.commands.length}`,
          command: q.command,
          language: q.language ?? c.language,
          status: 'Queued',
          results: null,
          started: 0,
        };
        c.commands.push(cmd);
        pump(c);
        return send(res, 200, { id: cmd.id });
      }
      const cmd = c.commands.find((x) => x.id === q.commandId);
      if (!cmd) return bad(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Command ${q.commandId} not found`);
      if (route === 'GET /api/1.2/commands/status') {
        return send(res, 200, { id: cmd.id, status: cmd.status, ...(cmd.results ? { results: cmd.results } : {}) });
      }
      if (route === 'POST /api/1.2/commands/cancel') {
        if (cmd.status === 'Queued') cmd.status = 'Cancelled';
        else if (cmd.status === 'Running') cmd.status = 'Cancelling';
        return send(res, 200, { id: cmd.id });
      }
      return bad(res, 404, 'ENDPOINT_NOT_FOUND', `No API found for '${route}'`);
    })().catch((e) => bad(res, 500, 'INTERNAL_ERROR', String(e)));
  });
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    options,
    contexts,
    commands: (id) => contexts.get(id)?.commands.map((x) => x.command) ?? [],
    loseContext(id) {
      const c = contexts.get(id);
      if (!c) return;
      endContext(c);
      contexts.delete(id);
    },
    async close() {
      closed = true;
      for (const c of contexts.values()) endContext(c);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      instance.closeSync();
    },
  };
}
