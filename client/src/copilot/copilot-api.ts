// The Copilot's HTTP calls from the browser: status (JSON) and generate/fix/explain (SSE over fetch, since the
// requests are POSTs with an Authorization header). Cancel both aborts the fetch and tells the kernel by request id.
import type { ErrorBody } from '@pipebook/shared';
import type { CopilotEvent, CopilotStatusBody } from '../../../kernel/src/copilot/protocol.ts';
import { parseSse } from '../net/sse.ts';

export type { CheckResult, Proposal, ProposedCell } from '../../../kernel/src/copilot/protocol.ts';
export type { CopilotEvent, CopilotStatusBody };

export class CopilotError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<CopilotError> {
  try {
    const body = (await res.json()) as { error?: ErrorBody };
    if (body.error) return new CopilotError(body.error.code, body.error.message);
  } catch {
    // not JSON
  }
  return new CopilotError('internal', `The Copilot request failed (${res.status}).`);
}

export async function fetchCopilotStatus(headers: Record<string, string>): Promise<CopilotStatusBody> {
  const res = await fetch('/api/copilot/status', { headers: { Accept: 'application/json', ...headers } });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as CopilotStatusBody;
}

/** Streams a generate/fix/explain call; resolves when the stream ends (after `done` or `error`). */
export async function streamCopilot(
  path: string,
  body: unknown,
  headers: Record<string, string>,
  onEvent: (e: CopilotEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok || !res.body) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for await (const msg of parseSse(reader)) onEvent(JSON.parse(msg.data) as CopilotEvent);
  } finally {
    reader.releaseLock();
  }
}

export async function cancelCopilot(requestId: string, headers: Record<string, string>): Promise<void> {
  await fetch(`/api/copilot/requests/${encodeURIComponent(requestId)}/cancel`, { method: 'POST', headers }).catch(
    () => {},
  );
}
