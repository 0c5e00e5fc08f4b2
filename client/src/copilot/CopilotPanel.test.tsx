import { addCell, initNotebook, readCells, readOrder } from '@pipebook/shared';
import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { CopilotPanel } from './CopilotPanel.tsx';
import type { CopilotEvent, Proposal } from './copilot-api.ts';

function sseResponse(events: CopilotEvent[]): Response {
  const text = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
  return new Response(text, { headers: { 'content-type': 'text/event-stream' } });
}

function notebook() {
  const doc = new Y.Doc();
  initNotebook(doc);
  const first = addCell(doc, { kind: 'sql', name: 'orders_clean', source: 'SELECT 1 AS a' });
  const last = addCell(doc, { kind: 'sql', name: 'report', source: 'SELECT 2 AS b' });
  return { doc, first, last };
}

const proposal = (over: Partial<Proposal>): Proposal => ({
  id: 'prop_1',
  type: 'generate',
  notebookId: 'nb',
  request: 'x',
  askedBy: { id: 'u_1', name: 'Ada' },
  verified: true,
  attempts: 2,
  checks: [],
  cells: [{ id: 'c_new', name: 'revenue', kind: 'sql', source: 'SELECT 3 AS r', config: {}, description: 'Revenue' }],
  ...over,
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('CopilotPanel', () => {
  it('says how to configure the Copilot when it is not', async () => {
    vi.stubGlobal('fetch', async () =>
      Response.json({ configured: false, reason: 'No model is configured.', howTo: 'Set PIPEBOOK_COPILOT_MODEL.' }),
    );
    const { doc } = notebook();
    render(() => <CopilotPanel notebookId="nb" doc={doc} focusedCellId={() => undefined} authHeaders={() => ({})} />);
    expect(await screen.findByText(/Set PIPEBOOK_COPILOT_MODEL/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Generate' })).toBeNull();
  });

  it('shows checks per attempt, inserts the verified cells after the focused cell, and undoes them in one step', async () => {
    const { doc, first, last } = notebook();
    const calls: Array<{ url: string; body?: string; headers: Record<string, string> }> = [];
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      calls.push({ url, body: init?.body as string, headers: (init?.headers ?? {}) as Record<string, string> });
      if (url.endsWith('/status')) return Response.json({ configured: true, model: 'm', endpoint: 'http://llm' });
      return sseResponse([
        { type: 'started', requestId: 'cop_1', version: 1 },
        { type: 'attempt', attempt: 1, maxAttempts: 3 },
        { type: 'token', text: '{"cells":' },
        {
          type: 'check',
          attempt: 1,
          result: { check: 'engine', ok: false, cell: 'revenue', message: 'Table nope does not exist' },
        },
        { type: 'attempt', attempt: 2, maxAttempts: 3 },
        { type: 'check', attempt: 2, result: { check: 'engine', ok: true, cell: 'revenue' } },
        { type: 'proposal', proposal: proposal({ afterCellId: first }) },
        { type: 'done' },
      ]);
    });
    render(() => (
      <CopilotPanel
        notebookId="nb"
        doc={doc}
        focusedCellId={() => first}
        authHeaders={() => ({ Authorization: 'Bearer t' })}
      />
    ));
    const box = await screen.findByLabelText('Ask the Copilot');
    expect(screen.getByText(/inserted after orders_clean/)).toBeInTheDocument();
    fireEvent.input(box, { target: { value: 'revenue please' } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByText('Verified');
    const generateCall = calls.find((c) => c.url.endsWith('/generate'))!;
    expect(generateCall.url).toBe('/api/copilot/notebooks/nb/generate');
    expect(JSON.parse(generateCall.body!)).toEqual({ request: 'revenue please', afterCellId: first });
    expect(generateCall.headers.Authorization).toBe('Bearer t');
    expect(screen.getByText('Table nope does not exist')).toBeInTheDocument();
    expect(screen.getAllByRole('listitem').map((li) => li.getAttribute('data-ok'))).toEqual(['false', 'true']);

    fireEvent.click(screen.getByRole('button', { name: 'Insert cells' }));
    expect(readCells(doc).map((c) => c.name)).toEqual(['orders_clean', 'revenue', 'report']);
    expect(screen.getByText('Inserted 1 cell.')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    expect(readOrder(doc)).toEqual([first, last]);
  });

  it('offers an unverified draft only as "insert anyway", and shows a fix as a diff', async () => {
    const { doc, first } = notebook();
    let reply: CopilotEvent[] = [];
    vi.stubGlobal('fetch', async (url: string) =>
      url.endsWith('/status') ? Response.json({ configured: true, model: 'm', endpoint: 'e' }) : sseResponse(reply),
    );
    render(() => <CopilotPanel notebookId="nb" doc={doc} focusedCellId={() => first} authHeaders={() => ({})} />);
    reply = [{ type: 'proposal', proposal: proposal({ verified: false, attempts: 3 }) }, { type: 'done' }];
    fireEvent.input(await screen.findByLabelText('Ask the Copilot'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await screen.findByText('Not verified');
    expect(screen.queryByRole('button', { name: 'Insert cells' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Insert draft anyway' })).toBeInTheDocument();

    reply = [
      {
        type: 'proposal',
        proposal: proposal({
          type: 'fix',
          targetCellId: first,
          cells: [
            { id: first, name: 'orders_clean', kind: 'sql', source: 'SELECT 1 AS b', config: {}, description: '' },
          ],
          diff: '--- orders_clean\n+++ orders_clean (proposed)\n@@ -1,1 +1,1 @@\n-SELECT 1 AS a\n+SELECT 1 AS b',
        }),
      },
      { type: 'done' },
    ];
    // Once the first stream has ended, the actions are enabled again.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Fix focused cell' })).toBeEnabled());
    fireEvent.click(screen.getByRole('button', { name: 'Fix focused cell' }));
    await screen.findByText('+SELECT 1 AS b');
    fireEvent.click(screen.getByRole('button', { name: 'Apply fix' }));
    await waitFor(() => expect(readCells(doc)[0].source).toBe('SELECT 1 AS b'));
  });

  it('streams an explanation', async () => {
    const { doc, first } = notebook();
    vi.stubGlobal('fetch', async (url: string) =>
      url.endsWith('/status')
        ? Response.json({ configured: true, model: 'm', endpoint: 'e' })
        : sseResponse([
            { type: 'token', text: 'Reads ' },
            { type: 'token', text: 'orders.' },
            { type: 'explanation', text: 'Reads orders.' },
            { type: 'done' },
          ]),
    );
    render(() => <CopilotPanel notebookId="nb" doc={doc} focusedCellId={() => first} authHeaders={() => ({})} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Explain focused cell' }));
    await waitFor(() => expect(screen.getByRole('region', { name: 'Explanation' })).toHaveTextContent('Reads orders.'));
  });

  it('cancels a running request: tells the kernel and stops reading', async () => {
    const { doc, first } = notebook();
    const cancelled: string[] = [];
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      if (url.endsWith('/status')) return Response.json({ configured: true, model: 'm', endpoint: 'e' });
      if (url.endsWith('/cancel')) {
        cancelled.push(url);
        return Response.json({ cancelled: true });
      }
      // A stream that sends its start and then waits until the request is aborted.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(
            new TextEncoder().encode('event: started\ndata: {"type":"started","requestId":"cop_9","version":1}\n\n'),
          );
          init?.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    render(() => <CopilotPanel notebookId="nb" doc={doc} focusedCellId={() => first} authHeaders={() => ({})} />);
    fireEvent.input(await screen.findByLabelText('Ask the Copilot'), { target: { value: 'slow' } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await waitFor(() =>
      expect(screen.getByRole('status', { name: 'Copilot progress' })).toHaveAttribute('data-request-id', 'cop_9'),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await screen.findByText('Cancelled.');
    expect(cancelled).toEqual(['/api/copilot/requests/cop_9/cancel']);
    expect(screen.getByRole('button', { name: 'Generate' })).toBeEnabled();
  });
});
