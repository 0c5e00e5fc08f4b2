// An OpenAI-compatible Chat Completions server with scripted replies, for tests and local development without a
// real key. It follows the wire format the `openai` SDK expects: bearer auth (401 JSON), `/v1/chat/completions`
// non-streaming and SSE (`data: <chunk>` ... `data: [DONE]`, optional usage tail chunk), json_schema replies,
// refusals, `length` finishes, mid-stream `{"error":...}`, 429/5xx with `retry-after`/`retry-after-ms`, and slow
// replies (before headers or between chunks) for timeout and cancel tests. Every request is recorded with its
// `X-Stainless-Retry-Count` so tests can assert the SDK's backoff.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatMessage {
  role: string;
  content: string | null | Array<{ type: string; text?: string }>;
}

export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
  [k: string]: unknown;
}

export interface RecordedRequest {
  path: string;
  /** Query string without `?` (Azure sends api-version here). */
  query: string;
  /** The Azure-style `api-key` header, when sent. */
  apiKeyHeader?: string;
  body: ChatRequestBody;
  retryCount: number;
  authorization?: string;
  at: number;
}

/** One scripted answer. `content` objects are sent as JSON text (what a json_schema reply looks like). */
export type Reply =
  | {
      type: 'content';
      content: string | object;
      /** Wait before sending headers (a slow model: timeouts, cancel). */
      delayMs?: number;
      /** Wait between stream chunks. */
      chunkDelayMs?: number;
      /** Characters per streamed chunk (default 12). */
      chunkSize?: number;
      finishReason?: 'stop' | 'length' | 'content_filter';
      /** Streaming only: after this many chunks send `{"error":...}` instead of the rest. */
      errorAfterChunks?: number;
    }
  | { type: 'refusal'; refusal: string }
  | {
      type: 'error';
      status: number;
      message?: string;
      code?: string;
      headers?: Record<string, string>;
    }
  /** Hold the request open without answering until the client goes away. */
  | { type: 'hang' };

export type Responder = (body: ChatRequestBody, recorded: RecordedRequest) => Reply | Promise<Reply>;

export interface OpenAiTestServerOptions {
  /** Bearer token to require; absent = any non-empty token. */
  apiKey?: string;
  /** Used when the script queue is empty. Default: a 500 error saying the script ran out. */
  responder?: Responder;
  port?: number;
  host?: string;
}

export interface OpenAiTestServer {
  /** Base URL to give the SDK (ends in /v1). */
  baseURL: string;
  requests: RecordedRequest[];
  /** Queue replies; each request takes the next one. */
  script(...replies: Reply[]): void;
  /** Requests whose connection the client closed before the reply finished (cancel, timeout). */
  aborted: number;
  close(): Promise<void>;
}

/** OpenAI-style `/v1/chat/completions` and the Azure deployment path; anything else is a 404 like a wrong base URL. */
const CHAT_PATH = /^(\/v1)?\/chat\/completions$|^\/openai\/deployments\/[^/]+\/chat\/completions$/;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${Date.now()}`, ...headers });
  res.end(JSON.stringify(body));
}

function roughTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function promptText(body: ChatRequestBody): string {
  return body.messages
    .map((m) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('')))
    .join('\n');
}

export async function startOpenAiTestServer(opts: OpenAiTestServerOptions = {}): Promise<OpenAiTestServer> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  let aborted = 0;
  let seq = 0;
  const open = new Set<http.ServerResponse>();

  const server = http.createServer(async (req, res) => {
    open.add(res);
    const gone = new AbortController();
    res.on('close', () => {
      open.delete(res);
      if (!res.writableFinished) {
        aborted++;
        gone.abort();
      }
    });
    try {
      const path = (req.url ?? '').split('?')[0];
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const auth = req.headers.authorization ?? (req.headers['api-key'] ? `Bearer ${req.headers['api-key']}` : '');
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!token || (opts.apiKey !== undefined && token !== opts.apiKey)) {
        return sendJson(res, 401, {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        });
      }
      if (req.method === 'GET' && /\/models$/.test(path)) {
        return sendJson(res, 200, {
          object: 'list',
          data: [{ id: 'test-model', object: 'model', owned_by: 'pipebook' }],
        });
      }
      if (req.method !== 'POST' || !CHAT_PATH.test(path)) {
        return sendJson(res, 404, {
          error: { message: `No route ${req.method} ${path}`, type: 'invalid_request_error' },
        });
      }
      let body: ChatRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: { message: 'Body is not JSON.', type: 'invalid_request_error' } });
      }
      const recorded: RecordedRequest = {
        path,
        query: (req.url ?? '').split('?')[1] ?? '',
        apiKeyHeader: req.headers['api-key'] as string | undefined,
        body,
        retryCount: Number(req.headers['x-stainless-retry-count'] ?? 0),
        authorization: req.headers.authorization,
        at: Date.now(),
      };
      requests.push(recorded);
      const reply: Reply =
        queue.shift() ??
        (opts.responder
          ? await opts.responder(body, recorded)
          : { type: 'error', status: 500, message: 'The test server has no scripted reply left.' });
      await answer(res, body, reply, gone.signal);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: 'server_error' } });
      else res.end();
    }
  });

  async function answer(res: http.ServerResponse, body: ChatRequestBody, reply: Reply, gone: AbortSignal) {
    const id = `chatcmpl-${++seq}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model;
    if (reply.type === 'hang') {
      await new Promise<void>((resolve) => gone.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    if (reply.type === 'error') {
      const type = reply.status === 429 ? 'requests' : reply.status >= 500 ? 'server_error' : 'invalid_request_error';
      return sendJson(
        res,
        reply.status,
        {
          error: {
            message: reply.message ?? `Scripted error ${reply.status}`,
            type,
            param: null,
            code: reply.code ?? (reply.status === 429 ? 'rate_limit_exceeded' : null),
          },
        },
        reply.headers,
      );
    }
    const usage = (completion: string) => ({
      prompt_tokens: roughTokens(promptText(body)),
      completion_tokens: roughTokens(completion),
      total_tokens: roughTokens(promptText(body)) + roughTokens(completion),
    });
    if (reply.type === 'refusal') {
      if (!body.stream) {
        return sendJson(res, 200, {
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: null, refusal: reply.refusal },
              logprobs: null,
              finish_reason: 'stop',
            },
          ],
          usage: usage(reply.refusal),
        });
      }
      startStream(res);
      writeChunk(res, {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [
          { index: 0, delta: { role: 'assistant', content: null, refusal: reply.refusal }, finish_reason: null },
        ],
      });
      writeChunk(res, {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      });
      res.end('data: [DONE]\n\n');
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs, gone);
    if (gone.aborted) return;
    const text = typeof reply.content === 'string' ? reply.content : JSON.stringify(reply.content);
    const finish = reply.finishReason ?? 'stop';
    if (!body.stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_pipebook_test',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: usage(text),
      });
    }
    startStream(res);
    const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_pipebook_test' };
    writeChunk(res, {
      ...base,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    const size = reply.chunkSize ?? 12;
    let n = 0;
    for (let i = 0; i < text.length; i += size) {
      if (reply.errorAfterChunks !== undefined && n >= reply.errorAfterChunks) {
        writeChunk(res, {
          error: { message: 'The model failed mid-stream.', type: 'server_error', param: null, code: null },
        });
        res.end();
        return;
      }
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs, gone);
      if (gone.aborted) return;
      writeChunk(res, {
        ...base,
        choices: [{ index: 0, delta: { content: text.slice(i, i + size) }, finish_reason: null }],
      });
      n++;
    }
    writeChunk(res, { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    if (body.stream_options?.include_usage) writeChunk(res, { ...base, choices: [], usage: usage(text) });
    res.end('data: [DONE]\n\n');
  }

  function startStream(res: http.ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': pipebook test server\n\n');
  }
  function writeChunk(res: http.ServerResponse, chunk: unknown) {
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...replies) => queue.push(...replies),
    get aborted() {
      return aborted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The text of the last user message of a request (what the test server's responders usually look at). */
export function lastUserMessage(body: ChatRequestBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i];
    if (m.role === 'user') return typeof m.content === 'string' ? m.content : promptText({ ...body, messages: [m] });
  }
  return '';
}

export { promptText };
