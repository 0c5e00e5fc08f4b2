import { type CellId, cellsMap, orderArray, readCell, readRun } from '@pipebook/shared';
import { createResource, createSignal, For, Match, onCleanup, Show, Switch } from 'solid-js';
import * as Y from 'yjs';
import { applyProposal } from '../../../kernel/src/copilot/apply.ts';
import {
  type CheckResult,
  type CopilotEvent,
  cancelCopilot,
  fetchCopilotStatus,
  type Proposal,
  streamCopilot,
} from './copilot-api.ts';
import { copilotOrigin } from './origin.ts';

export interface CopilotPanelProps {
  notebookId: string;
  doc: Y.Doc;
  /** The cell the user is in; generated cells go after it. */
  focusedCellId: () => string | undefined;
  authHeaders: () => Record<string, string>;
}

type Task = 'generate' | 'fix' | 'explain';

const CHECK_LABEL: Record<CheckResult['check'], string> = {
  schema: 'answer format',
  names: 'names',
  compile: 'compiles in the notebook',
  engine: 'engine validates',
};

function DiffView(props: { diff: string }) {
  const tint = (line: string) =>
    line.startsWith('+') && !line.startsWith('+++')
      ? '#e6f6e6'
      : line.startsWith('-') && !line.startsWith('---')
        ? '#fbe9e9'
        : undefined;
  return (
    <figure aria-label="Proposed change" style={{ margin: 0 }}>
      <pre class="copilot-diff" style={{ 'font-size': '0.8rem', 'overflow-x': 'auto' }}>
        <For each={props.diff.split('\n')}>{(line) => <div style={{ background: tint(line) }}>{line || ' '}</div>}</For>
      </pre>
    </figure>
  );
}

/** Generate, fix and explain cells with the configured model. */
export function CopilotPanel(props: CopilotPanelProps) {
  const [status] = createResource(() => fetchCopilotStatus(props.authHeaders()));
  const [request, setRequest] = createSignal('');
  const [running, setRunning] = createSignal<Task>();
  const [attempt, setAttempt] = createSignal<{ attempt: number; maxAttempts: number }>();
  const [written, setWritten] = createSignal('');
  const [checks, setChecks] = createSignal<Array<{ attempt: number; result: CheckResult }>>([]);
  const [notice, setNotice] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  const [proposal, setProposal] = createSignal<Proposal>();
  const [explanation, setExplanation] = createSignal<string>();
  const [inserted, setInserted] = createSignal<string>();
  const [withChain, setWithChain] = createSignal(false);
  let controller: AbortController | undefined;
  const [requestId, setRequestId] = createSignal<string>();
  let undo: Y.UndoManager | undefined;
  onCleanup(() => {
    controller?.abort();
    undo?.destroy();
  });

  const focusedName = () => {
    const id = props.focusedCellId();
    return id ? readCell(props.doc, id as CellId)?.name : undefined;
  };

  const onEvent = (task: Task) => (e: CopilotEvent) => {
    switch (e.type) {
      case 'started':
        setRequestId(e.requestId);
        break;
      case 'context':
        setNotice(
          `Context: ${e.cells} cells, ${e.tables} tables${e.omittedTables ? ` (${e.omittedTables} more not shown)` : ''}.`,
        );
        break;
      case 'attempt':
        setAttempt({ attempt: e.attempt, maxAttempts: e.maxAttempts });
        setWritten('');
        break;
      case 'token':
        if (task === 'explain') setExplanation((t) => (t ?? '') + e.text);
        else setWritten((t) => t + e.text);
        break;
      case 'rate_limited':
        setNotice(
          `The model endpoint is rate limiting; retrying${e.retryAfterSeconds !== undefined ? ` in ${Math.ceil(e.retryAfterSeconds)} s` : ''}…`,
        );
        break;
      case 'check':
        setChecks((list) => [...list, { attempt: e.attempt, result: e.result }]);
        break;
      case 'proposal':
        setProposal(e.proposal);
        break;
      case 'explanation':
        setExplanation(e.text);
        break;
      case 'error':
        setError(e.error.message);
        break;
      case 'done':
        break;
    }
  };

  async function start(task: Task, body: unknown) {
    controller?.abort();
    controller = new AbortController();
    setRequestId(undefined);
    setRunning(task);
    setAttempt(undefined);
    setWritten('');
    setChecks([]);
    setNotice(undefined);
    setError(undefined);
    setProposal(undefined);
    setExplanation(undefined);
    setInserted(undefined);
    try {
      await streamCopilot(
        `/api/copilot/notebooks/${encodeURIComponent(props.notebookId)}/${task}`,
        body,
        props.authHeaders(),
        onEvent(task),
        controller.signal,
      );
    } catch (e) {
      setError((e as Error).name === 'AbortError' ? 'Cancelled.' : (e as Error).message);
    } finally {
      setRunning(undefined);
    }
  }

  const generate = (e: Event) => {
    e.preventDefault();
    if (!request().trim()) return;
    void start('generate', { request: request().trim(), afterCellId: props.focusedCellId() });
  };
  const fix = () => {
    const id = props.focusedCellId();
    if (id) void start('fix', { cellId: id });
  };
  const explain = () => {
    const id = props.focusedCellId();
    if (id) void start('explain', { cellId: id, chain: withChain() });
  };
  const cancel = () => {
    const id = requestId();
    if (id) void cancelCopilot(id, props.authHeaders());
    controller?.abort();
  };

  /** Lands the proposal in this browser's replica: one transaction with a Copilot origin naming who asked. */
  const accept = (allowFailing: boolean) => {
    const p = proposal();
    if (!p) return;
    const origin = copilotOrigin(p.askedBy.id);
    undo?.destroy();
    undo = new Y.UndoManager([cellsMap(props.doc), orderArray(props.doc)], { trackedOrigins: new Set([origin]) });
    try {
      const ids = applyProposal(props.doc, p, p.askedBy, { allowFailing }, origin);
      setInserted(
        p.type === 'fix'
          ? `Applied the fix to ${p.cells[0].name}.`
          : `Inserted ${ids.length} cell${ids.length === 1 ? '' : 's'}.`,
      );
      setProposal(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const undoInsert = () => {
    undo?.undo();
    setInserted(undefined);
  };

  const focusedFailed = () => {
    const id = props.focusedCellId();
    return !!id && readRun(props.doc, id as CellId)?.status === 'error';
  };

  return (
    <section aria-label="Copilot" class="copilot">
      <h2 style={{ 'font-size': '1rem', margin: '0 0 0.4rem' }}>Copilot</h2>
      <Switch>
        <Match when={status.loading}>
          <p>Checking the Copilot…</p>
        </Match>
        <Match when={status.error}>
          <p role="alert">The Copilot is unavailable: {(status.error as Error).message}</p>
        </Match>
        <Match when={status() && !status()!.configured && status()}>
          {(s) => (
            <div role="note" aria-label="Copilot not configured">
              <p>
                <strong>The Copilot is not configured.</strong> {(s() as { reason: string }).reason}
              </p>
              <p>{(s() as { howTo: string }).howTo}</p>
            </div>
          )}
        </Match>
        <Match when={status()?.configured}>
          <p style={{ color: 'var(--muted)', 'font-size': '0.8rem', margin: '0 0 0.4rem' }}>
            Model {(status() as { model: string }).model} at {(status() as { endpoint: string }).endpoint}
          </p>
          <form onSubmit={generate}>
            <label for="copilot-request" style={{ display: 'block', 'font-size': '0.85rem' }}>
              Ask for cells{focusedName() ? ` (inserted after ${focusedName()})` : ''}
            </label>
            <textarea
              id="copilot-request"
              aria-label="Ask the Copilot"
              rows={3}
              style={{ width: '100%', 'box-sizing': 'border-box' }}
              placeholder="e.g. revenue per country for customers who ordered twice"
              value={request()}
              onInput={(e) => setRequest(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) generate(e);
              }}
            />
            <div style={{ display: 'flex', gap: '0.3rem', 'flex-wrap': 'wrap', 'margin-top': '0.3rem' }}>
              <button type="submit" disabled={!!running() || !request().trim()}>
                Generate
              </button>
              <button
                type="button"
                disabled={!!running() || !props.focusedCellId()}
                onClick={fix}
                title={
                  focusedFailed() ? 'Propose a fix for the failed cell' : 'Fix the focused cell using its last error'
                }
              >
                Fix focused cell
              </button>
              <button type="button" disabled={!!running() || !props.focusedCellId()} onClick={explain}>
                Explain focused cell
              </button>
              <label style={{ 'font-size': '0.8rem' }}>
                <input type="checkbox" checked={withChain()} onChange={(e) => setWithChain(e.currentTarget.checked)} />{' '}
                with its inputs
              </label>
            </div>
          </form>

          <Show when={running()}>
            <div
              role="status"
              aria-label="Copilot progress"
              data-request-id={requestId()}
              style={{ 'margin-top': '0.4rem' }}
            >
              <span>
                {running() === 'explain' ? 'Explaining' : 'Writing'}
                {attempt() && running() !== 'explain'
                  ? ` (attempt ${attempt()!.attempt} of ${attempt()!.maxAttempts})`
                  : ''}
                … {written().length ? `${written().length} characters` : ''}
              </span>{' '}
              <button type="button" onClick={cancel}>
                Cancel
              </button>
            </div>
          </Show>
          <Show when={written()}>
            <details>
              <summary style={{ 'font-size': '0.8rem' }}>Model output</summary>
              <pre
                style={{ 'font-size': '0.7rem', 'white-space': 'pre-wrap', 'max-height': '12rem', overflow: 'auto' }}
              >
                {written()}
              </pre>
            </details>
          </Show>
          <Show when={notice()}>
            <p style={{ 'font-size': '0.8rem', color: 'var(--muted)' }}>{notice()}</p>
          </Show>
          <Show when={checks().length}>
            <ul aria-label="Checks" style={{ 'list-style': 'none', padding: 0, 'font-size': '0.85rem' }}>
              <For each={checks()}>
                {(c) => (
                  <li data-ok={c.result.ok ? 'true' : 'false'}>
                    {c.result.ok ? '✓' : '✗'} attempt {c.attempt}: {CHECK_LABEL[c.result.check]}
                    {c.result.cell ? ` (${c.result.cell})` : ''}
                    <Show when={!c.result.ok && c.result.message}>
                      <div style={{ color: '#b00020', 'white-space': 'pre-wrap' }}>{c.result.message}</div>
                    </Show>
                  </li>
                )}
              </For>
            </ul>
          </Show>
          <Show when={error()}>
            <p role="alert" class="error">
              {error()}
            </p>
          </Show>

          <Show when={proposal()}>
            {(p) => (
              <section aria-label="Proposal" style={{ 'border-top': '1px solid var(--line)', 'padding-top': '0.4rem' }}>
                <p>
                  <strong>{p().verified ? 'Verified' : 'Not verified'}</strong> after {p().attempts} attempt
                  {p().attempts === 1 ? '' : 's'}.{p().note ? ` ${p().note}` : ''}
                </p>
                <Show when={p().type === 'fix' && p().diff !== undefined}>
                  <DiffView diff={p().diff || '(no change)'} />
                </Show>
                <Show when={p().type === 'generate'}>
                  <For each={p().cells}>
                    {(c) => (
                      <div class="copilot-cell" style={{ 'margin-bottom': '0.4rem' }}>
                        <div>
                          <code>{c.name}</code> <span class="cell-kind">{c.kind}</span> {c.description}
                        </div>
                        <Show when={c.columns?.length}>
                          <div style={{ 'font-size': '0.75rem', color: 'var(--muted)' }}>
                            columns: {c.columns!.map((x) => x.name).join(', ')}
                          </div>
                        </Show>
                        <pre style={{ 'font-size': '0.75rem', 'white-space': 'pre-wrap', margin: 0 }}>
                          {c.kind === 'sql' ? c.source : JSON.stringify(c.config)}
                        </pre>
                      </div>
                    )}
                  </For>
                </Show>
                <Show when={p().cells.length}>
                  <Show
                    when={p().verified}
                    fallback={
                      <button type="button" onClick={() => accept(true)}>
                        {p().type === 'fix' ? 'Apply failing fix anyway' : 'Insert draft anyway'}
                      </button>
                    }
                  >
                    <button type="button" onClick={() => accept(false)}>
                      {p().type === 'fix' ? 'Apply fix' : 'Insert cells'}
                    </button>
                  </Show>
                </Show>{' '}
                <button type="button" onClick={() => setProposal(undefined)}>
                  Discard
                </button>
              </section>
            )}
          </Show>
          <Show when={inserted()}>
            <p role="status" aria-label="Copilot result">
              {inserted()}{' '}
              <button type="button" onClick={undoInsert}>
                Undo
              </button>
            </p>
          </Show>
          <Show when={explanation() !== undefined}>
            <section aria-label="Explanation" style={{ 'white-space': 'pre-wrap', 'font-size': '0.9rem' }}>
              {explanation()}
            </section>
          </Show>
        </Match>
      </Switch>
    </section>
  );
}
