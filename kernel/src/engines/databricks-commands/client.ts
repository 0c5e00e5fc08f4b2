// Databricks Command Execution API 1.2 (all-purpose clusters): execution contexts and commands. Thin: one method
// per endpoint, Bearer auth, Databricks' JSON errors `{error_code, message}` turned into typed errors once.
import { PipebookError } from '@pipebook/shared';
import { parseJsonLossless } from '../livy/spark-code.ts';

export type ContextStatus = 'Pending' | 'Running' | 'Error';
export type CommandStatus = 'Queued' | 'Running' | 'Cancelling' | 'Finished' | 'Cancelled' | 'Error';

export interface CommandResults {
  resultType: 'text' | 'table' | 'image' | 'images' | 'error';
  data?: unknown;
  schema?: Array<{ name: string; type: unknown; metadata?: unknown }>;
  truncated?: boolean;
  isJsonSchema?: boolean;
  summary?: string;
  cause?: string;
}

export interface CommandState {
  id: string;
  status: CommandStatus;
  results?: CommandResults;
}

/** The context or command is unknown (destroyed, or lost with a driver restart). */
export class ResourceGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceGoneError';
  }
}

export interface CommandClientOptions {
  /** Workspace URL, e.g. https://adb-123.4.azuredatabricks.net */
  host: string;
  token: string;
  clusterId: string;
  requestTimeoutMs?: number;
  name?: string;
}

export class CommandExecutionClient {
  private readonly base: string;
  constructor(private readonly opts: CommandClientOptions) {
    this.base = opts.host.replace(/\/+$/, '');
  }

  private async call<T>(method: 'GET' | 'POST', path: string, params: Record<string, string>): Promise<T> {
    const all = { clusterId: this.opts.clusterId, ...params };
    const url = method === 'GET' ? `${this.base}${path}?${new URLSearchParams(all)}` : this.base + path;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          accept: 'application/json',
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        },
        body: method === 'POST' ? JSON.stringify(all) : undefined,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 60_000),
      });
    } catch (e) {
      const err = e as Error;
      const why = err.name === 'TimeoutError' ? 'no answer in time' : ((err.cause as Error)?.message ?? err.message);
      throw new PipebookError('engine_unavailable', `Cannot reach Databricks at ${this.base} (${why}).`, { cause: e });
    }
    const text = await res.text();
    let json: { error_code?: string; message?: string } & Record<string, unknown> = {};
    try {
      json = (text ? parseJsonLossless(text) : {}) as typeof json;
    } catch {
      json = { message: text.slice(0, 300) };
    }
    if (res.ok) return json as T;
    const msg = json.message ?? `HTTP ${res.status}`;
    const conn = this.opts.name ? ` (connection ${this.opts.name})` : '';
    if (res.status === 401) throw new PipebookError('unauthorized', `Databricks rejected the token${conn}.`);
    if (res.status === 403) throw new PipebookError('forbidden', `Databricks refused access${conn}: ${msg}`);
    if (res.status === 404 || json.error_code === 'RESOURCE_DOES_NOT_EXIST') throw new ResourceGoneError(msg);
    if (res.status === 429 || res.status >= 500) {
      throw new PipebookError('engine_unavailable', `Databricks answered HTTP ${res.status}: ${msg}`);
    }
    throw new PipebookError('bad_request', `Databricks refused the request${conn}: ${msg}`);
  }

  async createContext(language = 'python'): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/api/1.2/contexts/create', { language })).id;
  }
  contextStatus(contextId: string): Promise<{ id: string; status: ContextStatus }> {
    return this.call('GET', '/api/1.2/contexts/status', { contextId });
  }
  async destroyContext(contextId: string): Promise<void> {
    try {
      await this.call('POST', '/api/1.2/contexts/destroy', { contextId });
    } catch (e) {
      if (!(e instanceof ResourceGoneError)) throw e;
    }
  }
  async execute(contextId: string, command: string, language = 'python'): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/api/1.2/commands/execute', { contextId, language, command })).id;
  }
  commandStatus(contextId: string, commandId: string): Promise<CommandState> {
    return this.call('GET', '/api/1.2/commands/status', { contextId, commandId });
  }
  async cancel(contextId: string, commandId: string): Promise<void> {
    await this.call('POST', '/api/1.2/commands/cancel', { contextId, commandId });
  }
}
