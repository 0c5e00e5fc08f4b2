// Copilot configuration, read once on the server from the environment and the config file (pipebook.config.yaml,
// .yml or .json: the one the engine connections come from). The key stays here: the status the browser sees says
// only whether a model is configured and how to configure one.
import path from 'node:path';
import { PipebookError } from '@pipebook/shared';
import { z } from 'zod';
import { readConfigFile } from '../engines/config-file.ts';

export interface CopilotConfig {
  baseURL: string;
  /** Never logged, never sent to the browser. Local servers (Ollama, vLLM) accept any non-empty string. */
  apiKey: string;
  model: string;
  /** A request that sends no byte for this long fails with `timeout` (per attempt). */
  timeoutMs: number;
  /** Automatic retries of 429/5xx/connection errors inside one attempt (the SDK's own retry with retry-after). */
  maxRetries: number;
  /** Generate/fix attempts; each failed verification is sent back to the model. */
  maxAttempts: number;
  /** Token budget for the whole prompt (system prompt, context, request and retry feedback). */
  promptTokens: number;
  /**
   * Azure OpenAI: with an API version, `baseURL` is the resource endpoint (https://<resource>.openai.azure.com) and
   * `model` the deployment name; requests go to /openai/deployments/<model>/chat/completions with an `api-key` header.
   */
  azureApiVersion?: string;
}

export type CopilotStatus =
  | { configured: true; model: string; endpoint: string }
  | { configured: false; reason: string; howTo: string };

export const HOW_TO_CONFIGURE =
  'Set OPENAI_BASE_URL (e.g. https://api.openai.com/v1, or http://localhost:11434/v1 for Ollama), OPENAI_API_KEY ' +
  'and PIPEBOOK_COPILOT_MODEL in the environment of the Pipebook kernel, or add a `copilot:` section with baseUrl, ' +
  'apiKey and model to pipebook.config.yaml in PIPEBOOK_HOME, then restart Pipebook.';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const fileSchema = z
  .object({
    baseUrl: z.string().url().optional(),
    apiKey: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    maxRetries: z.number().int().min(0).max(10).optional(),
    maxAttempts: z.number().int().min(1).max(5).optional(),
    promptTokens: z.number().int().min(1000).max(1_000_000).optional(),
    azureApiVersion: z.string().min(1).optional(),
  })
  .strict();

export type CopilotFileSection = z.infer<typeof fileSchema>;

function intFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Reads the `copilot:` section of the config file the engine connections are read from
 * (pipebook.config.yaml, .yml or .json; absent file or section = nothing configured there).
 */
export function readCopilotFileSection(home: string): CopilotFileSection {
  const read = readConfigFile(home);
  if (!read) return {};
  const parsed = read.doc as { copilot?: unknown } | null;
  if (!parsed || typeof parsed !== 'object' || parsed.copilot === undefined || parsed.copilot === null) return {};
  const result = fileSchema.safeParse(parsed.copilot);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new PipebookError(
      'invalid_config',
      `${path.basename(read.file)}: copilot.${issue.path.join('.')}: ${issue.message}`,
    );
  }
  return result.data;
}

/**
 * Environment wins over the file. A model name is required; a key is required only for the default (OpenAI)
 * endpoint, since local servers ignore it.
 */
export function resolveCopilotConfig(
  env: Record<string, string | undefined>,
  file: CopilotFileSection,
): CopilotConfig | { missing: string } {
  const baseURL = env.OPENAI_BASE_URL || file.baseUrl || DEFAULT_BASE_URL;
  const apiKey = env.OPENAI_API_KEY || file.apiKey || '';
  const model = env.PIPEBOOK_COPILOT_MODEL || file.model || '';
  const azureApiVersion = env.OPENAI_API_VERSION || file.azureApiVersion;
  if (!model) return { missing: 'No model is configured (PIPEBOOK_COPILOT_MODEL).' };
  if (!apiKey && baseURL === DEFAULT_BASE_URL) return { missing: 'No API key is configured (OPENAI_API_KEY).' };
  return {
    baseURL: baseURL.replace(/\/+$/, ''),
    apiKey: apiKey || 'not-needed',
    model,
    timeoutMs: intFromEnv(env.PIPEBOOK_COPILOT_TIMEOUT_MS) ?? file.timeoutMs ?? 60_000,
    maxRetries: intFromEnv(env.PIPEBOOK_COPILOT_MAX_RETRIES) ?? file.maxRetries ?? 2,
    maxAttempts: Math.min(5, Math.max(1, intFromEnv(env.PIPEBOOK_COPILOT_MAX_ATTEMPTS) ?? file.maxAttempts ?? 3)),
    promptTokens: intFromEnv(env.PIPEBOOK_COPILOT_PROMPT_TOKENS) ?? file.promptTokens ?? 12_000,
    ...(azureApiVersion ? { azureApiVersion } : {}),
  };
}

export function loadCopilotConfig(
  env: Record<string, string | undefined>,
  home: string,
): CopilotConfig | { missing: string } {
  try {
    return resolveCopilotConfig(env, readCopilotFileSection(home));
  } catch (err) {
    return { missing: err instanceof Error ? err.message : String(err) };
  }
}

export function isConfigured(c: CopilotConfig | { missing: string }): c is CopilotConfig {
  return !('missing' in c);
}

/** What the browser may know: the model and the endpoint's origin, never the key or a URL's credentials/path. */
export function copilotStatus(c: CopilotConfig | { missing: string }): CopilotStatus {
  if (!isConfigured(c)) return { configured: false, reason: c.missing, howTo: HOW_TO_CONFIGURE };
  let endpoint = 'custom endpoint';
  try {
    const u = new URL(c.baseURL);
    endpoint = `${u.protocol}//${u.host}`;
  } catch {
    // keep the neutral label
  }
  return { configured: true, model: c.model, endpoint };
}
