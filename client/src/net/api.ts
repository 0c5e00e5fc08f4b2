// Typed calls to the collaboration server's notebook API and the kernel's run/result API (proxied on the same
// origin). Kernel answers are validated with the shared protocol schemas at this edge, once.
import type { PipebookFile } from '@pipebook/shared';
import {
  type CancelResponse,
  type CatalogResponse,
  catalogResponseSchema,
  type EnginesResponse,
  enginesResponseSchema,
  type ResultPage,
  type RunCreated,
  type RunEvent,
  type RunScope,
  resultPageSchema,
  runCreatedSchema,
  runEventSchema,
} from '@pipebook/shared/protocol/kernel';
import { authHeaders } from './auth.ts';
import { ApiError, errorFromBody, request } from './http.ts';
import { parseSse } from './sse.ts';

export type Role = 'owner' | 'editor' | 'viewer';

export interface NotebookSummary {
  id: string;
  title: string;
  role?: Role;
  updatedAt?: number | string;
  createdAt?: number | string;
  owner?: { id: string; name?: string } | string;
}

export interface Member {
  userId: string;
  role: Role;
  name?: string;
}

export type CreateNotebook = { title?: string; template?: 'empty' | 'demo' } | { file: PipebookFile };

const enc = encodeURIComponent;

export const notebooksApi = {
  async list(): Promise<NotebookSummary[]> {
    const out = await request<NotebookSummary[] | { notebooks: NotebookSummary[] }>('/api/notebooks');
    return Array.isArray(out) ? out : out.notebooks;
  },
  create(body: CreateNotebook): Promise<NotebookSummary> {
    return request<NotebookSummary>('/api/notebooks', { method: 'POST', body });
  },
  rename(id: string, title: string): Promise<NotebookSummary> {
    return request(`/api/notebooks/${enc(id)}`, { method: 'PATCH', body: { title } });
  },
  remove(id: string): Promise<void> {
    return request(`/api/notebooks/${enc(id)}`, { method: 'DELETE' });
  },
  exportFile(id: string): Promise<PipebookFile> {
    return request(`/api/notebooks/${enc(id)}/export`);
  },
  access(id: string): Promise<{ role: Role; user: { id: string; name: string } }> {
    return request(`/api/notebooks/${enc(id)}/access`);
  },
  async members(id: string): Promise<Member[]> {
    const out = await request<Member[] | { members: Member[] }>(`/api/notebooks/${enc(id)}/members`);
    return Array.isArray(out) ? out : out.members;
  },
  share(id: string, userId: string, role: Role): Promise<void> {
    return request(`/api/notebooks/${enc(id)}/members/${enc(userId)}`, { method: 'PUT', body: { role } });
  },
  revoke(id: string, userId: string): Promise<void> {
    return request(`/api/notebooks/${enc(id)}/members/${enc(userId)}`, { method: 'DELETE' });
  },
};

export const kernelApi = {
  async engines(): Promise<EnginesResponse['engines']> {
    return enginesResponseSchema.parse(await request('/api/engines')).engines;
  },
  async catalog(engine: string, signal?: AbortSignal): Promise<CatalogResponse> {
    return catalogResponseSchema.parse(await request(`/api/engines/${enc(engine)}/catalog`, { signal }));
  },
  async run(notebookId: string, scope: RunScope, cellId?: string, force = false): Promise<RunCreated> {
    return runCreatedSchema.parse(
      await request('/api/runs', { method: 'POST', body: { notebookId, cellId, scope, force } }),
    );
  },
  cancel(runId: string): Promise<CancelResponse> {
    return request(`/api/runs/${enc(runId)}/cancel`, { method: 'POST', body: {} });
  },
  async results(
    notebookId: string,
    cellId: string,
    offset: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<ResultPage> {
    const page = await request(`/api/results/${enc(notebookId)}/${enc(cellId)}`, { query: { offset, limit }, signal });
    return resultPageSchema.parse(page);
  },
  /**
   * Streams a run's events. EventSource cannot send an Authorization header, so this reads the SSE stream with
   * fetch; it ends when the run finishes, the stream closes or `signal` aborts.
   */
  async events(runId: string, onEvent: (e: RunEvent) => void, signal: AbortSignal): Promise<void> {
    const res = await fetch(`/api/runs/${enc(runId)}/events`, {
      headers: { Accept: 'text/event-stream', ...authHeaders() },
      signal,
    });
    if (!res.ok || !res.body) {
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        body = undefined;
      }
      throw res.ok
        ? new ApiError('internal', 'The run event stream is empty.', res.status)
        : errorFromBody(res.status, body);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for await (const msg of parseSse(reader)) {
      const parsed = runEventSchema.safeParse(JSON.parse(msg.data));
      if (!parsed.success) continue;
      onEvent(parsed.data);
      if (parsed.data.type === 'run_finished') return;
    }
  },
};
