// One streamed Chat Completions call through the `openai` SDK against any OpenAI-compatible endpoint. The SDK's own
// retry handles 429/5xx with retry-after; this layer adds an idle timeout (no byte for `timeoutMs`), cancel through
// the caller's AbortSignal, and maps every failure to a PipebookError a user can act on. Never logs the key.
import { PipebookError } from '@pipebook/shared';
import OpenAI, { AzureOpenAI } from 'openai';
import type { CopilotConfig } from './config.ts';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelCallOptions {
  messages: ChatTurn[];
  /** Structured output; absent = plain text. */
  jsonSchema?: { name: string; description?: string; schema: Record<string, unknown>; strict?: boolean };
  signal: AbortSignal;
  onToken?: (text: string) => void;
  /** The endpoint answered 429; the SDK waits `retryAfterSeconds` (when sent and under a minute) and retries. */
  onRateLimited?: (retryAfterSeconds: number | undefined) => void;
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && !Number.isNaN(Number(ms))) return Number(ms) / 1000;
  const s = headers?.get('retry-after');
  if (!s) return undefined;
  if (!Number.isNaN(Number(s))) return Number(s);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

function endpointLabel(baseURL: string): string {
  try {
    const u = new URL(baseURL);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the model endpoint';
  }
}

/** Streams one completion and returns its full text. */
export async function callModel(config: CopilotConfig, opts: ModelCallOptions): Promise<string> {
  const controller = new AbortController();
  let timedOut = false;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, config.timeoutMs);
  };
  const disarm = () => clearTimeout(idle);
  const onAbort = () => controller.abort();
  if (opts.signal.aborted) controller.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });

  // Watching each HTTP attempt: a 429 pauses the idle timer while the SDK sleeps out retry-after.
  const watchedFetch: typeof fetch = async (input, init) => {
    arm();
    const res = await fetch(input, init);
    if (res.status === 429) {
      disarm();
      opts.onRateLimited?.(retryAfterSeconds(res.headers));
    } else arm();
    return res;
  };
  const common = {
    apiKey: config.apiKey,
    maxRetries: config.maxRetries,
    // Our idle timer fires first; the SDK's timeout is only a backstop.
    timeout: config.timeoutMs + 5_000,
    fetch: watchedFetch,
  };
  const client = config.azureApiVersion
    ? new AzureOpenAI({
        ...common,
        endpoint: config.baseURL,
        apiVersion: config.azureApiVersion,
        deployment: config.model,
      })
    : new OpenAI({ ...common, baseURL: config.baseURL });

  const label = endpointLabel(config.baseURL);
  let responseFormat: OpenAI.Chat.Completions.ChatCompletionCreateParams['response_format'] = opts.jsonSchema
    ? { type: 'json_schema', json_schema: opts.jsonSchema }
    : undefined;
  try {
    for (let fallback = 0; ; fallback++) {
      try {
        arm();
        const stream = await client.chat.completions.create(
          {
            model: config.model,
            messages: opts.messages,
            stream: true,
            temperature: 0,
            ...(responseFormat ? { response_format: responseFormat } : {}),
          },
          { signal: controller.signal },
        );
        let text = '';
        let refusal = '';
        let finish: string | null = null;
        for await (const chunk of stream) {
          arm();
          const choice = chunk.choices[0];
          if (!choice) continue;
          if (choice.delta?.content) {
            text += choice.delta.content;
            opts.onToken?.(choice.delta.content);
          }
          if (choice.delta?.refusal) refusal += choice.delta.refusal;
          if (choice.finish_reason) finish = choice.finish_reason;
        }
        // The SDK ends a stream quietly when its signal aborts; that is a timeout or a cancel, not an answer.
        if (controller.signal.aborted) throw new OpenAI.APIUserAbortError();
        if (refusal) throw new PipebookError('bad_request', `The model refused: ${refusal}`);
        if (finish === 'length')
          throw new PipebookError('too_large', 'The model stopped before finishing its answer (length limit).');
        if (finish === 'content_filter')
          throw new PipebookError('blocked', "The endpoint's content filter stopped the answer.");
        return text;
      } catch (err) {
        // Endpoints without json_schema support (older vLLM/llama.cpp builds) reject it with 400: fall back to JSON
        // mode, the prompt still spells out the schema and zod still checks the answer.
        if (err instanceof OpenAI.BadRequestError && responseFormat?.type === 'json_schema' && fallback === 0) {
          responseFormat = { type: 'json_object' };
          continue;
        }
        throw err;
      }
    }
  } catch (err) {
    if (err instanceof PipebookError) throw err;
    if (timedOut || err instanceof OpenAI.APIConnectionTimeoutError)
      throw new PipebookError(
        'timeout',
        `The model did not answer within ${Math.round(config.timeoutMs / 1000)} s (${label}).`,
      );
    if (opts.signal.aborted || err instanceof OpenAI.APIUserAbortError)
      throw new PipebookError('cancelled', 'Cancelled.');
    if (err instanceof OpenAI.RateLimitError) {
      const after = retryAfterSeconds(err.headers);
      throw new PipebookError(
        'rate_limited',
        `The model endpoint is rate limiting requests (429)${after !== undefined ? `; it asks to retry after ${Math.ceil(after)} s` : ''}. Try again later.`,
      );
    }
    if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.PermissionDeniedError)
      throw new PipebookError(
        'invalid_config',
        `The model endpoint rejected the API key (${err.status}). Check OPENAI_API_KEY.`,
      );
    if (err instanceof OpenAI.NotFoundError)
      throw new PipebookError(
        'invalid_config',
        `The model endpoint answered 404: check OPENAI_BASE_URL and that model "${config.model}" exists.`,
      );
    if (err instanceof OpenAI.APIConnectionError)
      throw new PipebookError('engine_unavailable', `Cannot reach the model endpoint ${label}.`);
    if (err instanceof OpenAI.APIError)
      throw new PipebookError('internal', `The model endpoint failed (${err.status ?? 'stream'}): ${err.message}`);
    throw new PipebookError('internal', `The model call failed: ${(err as Error).message}`);
  } finally {
    disarm();
    opts.signal.removeEventListener('abort', onAbort);
  }
}
