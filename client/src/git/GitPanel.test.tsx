import { cleanup, fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { GitPanel } from './GitPanel.tsx';

interface Call {
  method: string;
  url: string;
  body?: unknown;
  auth?: string;
}

/** A fake of the git routes, recording every call. */
function fakeServer() {
  const calls: Call[] = [];
  const snapshots = [
    {
      commit: 'b'.repeat(40),
      parents: ['a'.repeat(40)],
      author: { name: 'Bob', email: 'bob@x' },
      date: '2026-01-02T00:00:00Z',
      message: 'Second',
    },
    {
      commit: 'a'.repeat(40),
      parents: [],
      author: { name: 'Ada', email: 'ada@x' },
      date: '2026-01-01T00:00:00Z',
      message: 'First',
    },
  ];
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchMock = vi.fn(async (input: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({
      method,
      url: input,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      auth: headers.Authorization,
    });
    const path = input.replace('/api/notebooks/nb_1/git', '');
    if (path === '/status') return json({ branch: 'main', head: snapshots[0].commit, remote: null });
    if (path.startsWith('/history')) return json({ snapshots });
    if (path === '/branches')
      return json({
        branches: [
          { name: 'feature', commit: 'f'.repeat(40), current: false },
          { name: 'main', commit: snapshots[0].commit, current: true },
        ],
      });
    if (path === '/merge') {
      const conflict = {
        id: 'c_top',
        name: 'top_countries',
        reason: 'both_changed',
        fields: ['source'],
        resolution: 'ours',
        diff: '--- ours/cells/top_countries.sql\n+++ theirs/cells/top_countries.sql\n@@ -1 +1 @@\n-SELECT 1\n+SELECT 2\n',
      };
      return json({
        kind: 'merge',
        conflicts: [conflict],
        metaConflicts: [],
        ...(init.body && JSON.parse(String(init.body)).dryRun ? {} : { commit: 'd'.repeat(40), restoreId: 'r-2' }),
      });
    }
    if (path === '/snapshot') return json({ commit: 'c'.repeat(40), created: true, branch: 'main' }, 201);
    if (path.startsWith('/diff'))
      return json({
        orderChanged: false,
        cells: [
          {
            id: 'c1',
            status: 'changed',
            name: 'orders_clean',
            kind: 'sql',
            diff: '--- a\n+++ b\n@@ -1 +1 @@\n-SELECT 1\n+SELECT 2\n',
          },
        ],
      });
    if (path === '/restore') return json({ commit: snapshots[1].commit, restoreId: 'r-1' });
    if (path === '/restore/undo') return json({ undone: true });
    return json({ error: { code: 'not_found', message: 'nope' } }, 404);
  });
  return { calls, fetchMock };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('GitPanel', () => {
  it('snapshots with a message, shows per-cell diffs, restores and undoes', async () => {
    const server = fakeServer();
    vi.stubGlobal('fetch', server.fetchMock);
    render(() => <GitPanel notebookId="nb_1" doc={new Y.Doc()} authHeaders={() => ({ Authorization: 'Bearer t' })} />);

    expect(await screen.findByText('Second')).toBeInTheDocument();
    expect(screen.getByText(/On branch/)).toHaveTextContent('On branch main at bbbbbbbb');

    const snapshotButton = screen.getByRole('button', { name: 'Snapshot' });
    expect(snapshotButton).toBeDisabled();
    fireEvent.input(screen.getByLabelText('Snapshot message'), { target: { value: 'Tidy up' } });
    fireEvent.click(snapshotButton);
    await screen.findByText(/Snapshot cccccccc saved on main/);
    const post = server.calls.find((c) => c.method === 'POST' && c.url.endsWith('/snapshot'))!;
    expect(post.body).toEqual({ message: 'Tidy up' });
    expect(post.auth).toBe('Bearer t');

    fireEvent.click(screen.getAllByRole('button', { name: 'Changes' })[0]);
    expect(await screen.findByText('orders_clean')).toBeInTheDocument();
    expect(screen.getByText('+SELECT 2')).toBeInTheDocument();
    expect(server.calls.some((c) => c.url.includes(`/diff?from=${'a'.repeat(40)}&to=${'b'.repeat(40)}`))).toBe(true);

    fireEvent.click(screen.getAllByRole('button', { name: 'Restore' })[1]);
    await screen.findByText(/Restored “First”/);
    expect(server.calls.find((c) => c.url.endsWith('/restore'))!.body).toEqual({ rev: 'a'.repeat(40) });
    fireEvent.click(screen.getByRole('button', { name: 'Undo restore' }));
    await screen.findByText('Restore undone.');
    expect(server.calls.find((c) => c.url.endsWith('/restore/undo'))!.body).toEqual({ restoreId: 'r-1' });
  });

  it('previews a merge, shows the conflicting cell with its diff, and merges with the chosen side', async () => {
    const server = fakeServer();
    vi.stubGlobal('fetch', server.fetchMock);
    render(() => <GitPanel notebookId="nb_1" doc={new Y.Doc()} authHeaders={() => ({})} />);
    await screen.findByRole('option', { name: 'feature' });
    fireEvent.change(screen.getByLabelText('Merge branch'), { target: { value: 'feature' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    await screen.findByText(/1 cell\(s\) conflict/);
    expect(screen.getByText('top_countries')).toBeInTheDocument();
    expect(screen.getByText(/\+SELECT 2/)).toBeInTheDocument();
    expect(server.calls.find((c) => c.url.endsWith('/merge'))!.body).toEqual({ branch: 'feature', dryRun: true });
    fireEvent.change(screen.getByLabelText('Keep which version of top_countries'), { target: { value: 'theirs' } });
    fireEvent.click(screen.getByRole('button', { name: 'Merge into current' }));
    await screen.findByText(/Merged; 1 conflicting cell kept the chosen side/);
    expect(server.calls.filter((c) => c.url.endsWith('/merge'))[1].body).toEqual({
      branch: 'feature',
      resolutions: { c_top: 'theirs' },
    });
    expect(screen.getByRole('button', { name: 'Undo restore' })).toBeInTheDocument();
  });

  it('shows server errors to the user', async () => {
    const server = fakeServer();
    vi.stubGlobal('fetch', server.fetchMock);
    render(() => <GitPanel notebookId="nb_1" doc={new Y.Doc()} authHeaders={() => ({})} />);
    await screen.findByText('Second');
    fireEvent.click(screen.getByRole('button', { name: 'Download project (.zip)' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Export failed (404).'));
  });
});
