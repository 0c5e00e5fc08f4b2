// Generate, fix and explain: plain functions over a Y.Doc, the engines and the model. The HTTP layer (routes.ts) only
// parses requests, authorizes and streams the events these functions emit.
import {
  type CellId,
  type CellSnapshot,
  PipebookError,
  readCell,
  readCells,
  readMeta,
  readRuns,
} from '@pipebook/shared';
import type * as Y from 'yjs';
import type { CatalogTable, Engine } from '../engines/engine.ts';
import { ANSWER_JSON_SCHEMA, AnswerError, GENERATED_KINDS, parseAnswer, toProposedCells } from './answer.ts';
import type { CopilotConfig } from './config.ts';
import { buildContext } from './context.ts';
import { unifiedDiff } from './diff.ts';
import { type ChatTurn, callModel } from './model.ts';
import { contextMessage, explainSystemPrompt, fixSystemPrompt, generateSystemPrompt } from './prompts.ts';
import type { CheckResult, CopilotEvent, Proposal, ProposedCell } from './protocol.ts';
import { estimateTokens } from './tokens.ts';
import { type CopilotCompiler, feedbackFor, verifyProposal, withInserted, withReplaced } from './verify.ts';

export interface CopilotDeps {
  config: CopilotConfig;
  engines: { get(name: string): Engine };
  compiler: CopilotCompiler;
  catalogs?: CatalogCache;
}

export interface CopilotCall {
  doc: Y.Doc;
  notebookId: string;
  user: { id: string; name: string };
  signal: AbortSignal;
  emit: (e: CopilotEvent) => void;
}

/** Tokens kept free for a retry: the previous answer (truncated) and the failed checks. */
const RETRY_RESERVE_TOKENS = 1_600;
const PREVIOUS_ANSWER_CHARS = 3_000;
const FEEDBACK_CHARS = 1_500;

/** Catalogs change rarely and remote ones are slow to list: keep each for a minute. */
export class CatalogCache {
  private entries = new Map<string, { at: number; tables: Promise<CatalogTable[]> }>();
  constructor(private readonly ttlMs = 60_000) {}
  get(engine: Engine, signal: AbortSignal): Promise<CatalogTable[]> {
    const hit = this.entries.get(engine.info.name);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.tables;
    const tables = engine.catalog(signal);
    this.entries.set(engine.info.name, { at: Date.now(), tables });
    tables.catch(() => this.entries.delete(engine.info.name));
    return tables;
  }
}

async function catalogOf(deps: CopilotDeps, engine: Engine, signal: AbortSignal): Promise<CatalogTable[]> {
  try {
    return await (deps.catalogs ? deps.catalogs.get(engine, signal) : engine.catalog(signal));
  } catch {
    // Without a catalog the model still sees the notebook; verification catches unknown tables.
    return [];
  }
}

function engineResolver(deps: CopilotDeps, defaultEngine: string, overrides: Map<string, string>) {
  return (cell: CellSnapshot) => deps.engines.get(overrides.get(cell.id) ?? cell.engine ?? defaultEngine);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

interface AttemptLoop {
  deps: CopilotDeps;
  call: CopilotCall;
  system: string;
  user: string;
  /** Parses, converts and verifies one answer; throws AnswerError when the answer cannot even be read. */
  check: (
    text: string,
    onCheck: (r: CheckResult) => void,
  ) => Promise<{ ok: boolean; cells: ProposedCell[]; note: string }>;
}

/** Ask, verify, and on failure send the failed checks back, up to `maxAttempts`. */
async function attemptLoop(loop: AttemptLoop) {
  const { deps, call } = loop;
  const max = deps.config.maxAttempts;
  let messages: ChatTurn[] = [
    { role: 'system', content: loop.system },
    { role: 'user', content: loop.user },
  ];
  type Outcome = { ok: boolean; checks: CheckResult[]; cells: ProposedCell[]; note: string };
  // The latest attempt that produced cells: if a later answer cannot even be read, the user can still choose it.
  let draft: Outcome | undefined;
  let last: Outcome = { ok: false, checks: [], cells: [], note: '' };
  let attempt = 0;
  while (attempt < max) {
    attempt++;
    call.emit({ type: 'attempt', attempt, maxAttempts: max });
    const text = await callModel(deps.config, {
      messages,
      jsonSchema: ANSWER_JSON_SCHEMA as unknown as { name: string; schema: Record<string, unknown>; strict: boolean },
      signal: call.signal,
      onToken: (t) => call.emit({ type: 'token', text: t }),
      onRateLimited: (s) => call.emit({ type: 'rate_limited', retryAfterSeconds: s }),
    });
    const checks: CheckResult[] = [];
    const onCheck = (result: CheckResult) => {
      checks.push(result);
      call.emit({ type: 'check', attempt, result });
    };
    try {
      const out = await loop.check(text, onCheck);
      last = { ...out, ok: out.ok && checks.every((c) => c.ok), checks };
      draft = last;
    } catch (err) {
      call.signal.throwIfAborted();
      if (!(err instanceof AnswerError)) throw err;
      onCheck({ check: err.check, ok: false, cell: err.cell, message: err.message });
      last = { ok: false, checks, cells: [], note: '' };
    }
    if (last.ok) break;
    messages = [
      { role: 'system', content: loop.system },
      { role: 'user', content: loop.user },
      { role: 'assistant', content: truncate(text, PREVIOUS_ANSWER_CHARS) },
      { role: 'user', content: truncate(feedbackFor(last.checks), FEEDBACK_CHARS) },
    ];
  }
  const result = last.cells.length || !draft ? last : draft;
  return { ...result, attempts: attempt };
}

export async function generateCells(
  deps: CopilotDeps,
  call: CopilotCall,
  body: { request: string; afterCellId?: string; engine?: string },
): Promise<Proposal> {
  const { doc } = call;
  const meta = readMeta(doc);
  const cells = readCells(doc);
  const engineName = body.engine ?? meta.defaultEngine;
  const engine = deps.engines.get(engineName);
  const dialect = engine.info.dialect;
  const after = cells.find((c) => c.id === body.afterCellId) ?? cells[cells.length - 1];
  const system = generateSystemPrompt(dialect, after?.name);
  const ask = `Request: ${body.request}`;
  const tables = await catalogOf(deps, engine, call.signal);
  const context = buildContext({
    request: body.request,
    dialect,
    tables,
    cells,
    runs: readRuns(doc),
    focusedCellId: after?.id,
    budgetTokens: deps.config.promptTokens - estimateTokens(system) - estimateTokens(ask) - RETRY_RESERVE_TOKENS - 40,
  });
  call.emit({
    type: 'context',
    tokens: context.tokens,
    tables: context.includedTables.length,
    omittedTables: context.omittedTables.length,
    cells: context.includedCells.length,
  });

  const overrides = new Map<string, string>();
  const header = (c: { description: string }) =>
    `${c.description.trim() ? `-- ${c.description.trim().replace(/\s+/g, ' ')}\n` : ''}-- Copilot, asked by ${call.user.name.replace(/\s+/g, ' ')}\n`;
  const result = await attemptLoop({
    deps,
    call,
    system,
    user: contextMessage(context.text, ask),
    check: async (text, onCheck) => {
      const answer = parseAnswer(text);
      onCheck({ check: 'schema', ok: true });
      const proposed = toProposedCells(answer, cells, { header });
      for (const p of proposed) {
        onCheck({ check: 'names', ok: true, cell: p.name });
        if (engineName !== meta.defaultEngine) {
          p.engine = engineName;
          overrides.set(p.id, engineName);
        }
      }
      const outcome = await verifyProposal({
        cells: withInserted(cells, proposed, after?.id),
        proposed,
        engineFor: engineResolver(deps, meta.defaultEngine, overrides),
        compiler: deps.compiler,
        signal: call.signal,
        onCheck,
      });
      return {
        ok: outcome.ok,
        cells: proposed,
        note: answer.note,
      };
    },
  });
  return {
    id: `prop_${crypto.randomUUID()}`,
    type: 'generate',
    notebookId: call.notebookId,
    request: body.request,
    askedBy: call.user,
    verified: result.ok,
    attempts: result.attempts,
    checks: result.checks,
    cells: result.cells,
    afterCellId: after?.id,
    note: result.note,
  };
}

/** What a cell looks like as text for a diff: SQL as is, visual steps as their config. */
function cellText(c: { kind: string; source: string; config: unknown }): string {
  return c.kind === 'sql' ? c.source : JSON.stringify(c.config, null, 2);
}

export async function fixCell(
  deps: CopilotDeps,
  call: CopilotCall,
  body: { cellId: string; error?: string },
): Promise<Proposal> {
  const { doc } = call;
  const target = readCell(doc, body.cellId as CellId);
  if (!target) throw new PipebookError('not_found', 'That cell no longer exists.');
  if (!(GENERATED_KINDS as readonly string[]).includes(target.kind))
    throw new PipebookError('bad_request', `Copilot fixes SQL cells and visual steps, not ${target.kind} cells.`);
  const runs = readRuns(doc);
  const error = body.error ?? runs[target.id]?.error?.message;
  if (!error) throw new PipebookError('bad_request', `Cell "${target.name}" has no failed run to fix.`);
  const meta = readMeta(doc);
  const cells = readCells(doc);
  const engine = deps.engines.get(target.engine ?? meta.defaultEngine);
  const dialect = engine.info.dialect;
  const system = fixSystemPrompt(dialect);
  const ask = [
    `Cell to fix: "${target.name}" (kind ${target.kind})`,
    '```',
    cellText(target),
    '```',
    `Error: ${truncate(error, 2000)}`,
  ].join('\n');
  const tables = await catalogOf(deps, engine, call.signal);
  const context = buildContext({
    request: `${target.source} ${error}`,
    dialect,
    tables,
    cells,
    runs,
    focusedCellId: target.id,
    pinnedCellIds: [target.id],
    budgetTokens: deps.config.promptTokens - estimateTokens(system) - estimateTokens(ask) - RETRY_RESERVE_TOKENS - 40,
  });
  call.emit({
    type: 'context',
    tokens: context.tokens,
    tables: context.includedTables.length,
    omittedTables: context.omittedTables.length,
    cells: context.includedCells.length,
  });
  const result = await attemptLoop({
    deps,
    call,
    system,
    user: contextMessage(context.text, ask),
    check: async (text, onCheck) => {
      const answer = parseAnswer(text);
      onCheck({ check: 'schema', ok: true });
      const [fixed] = toProposedCells(answer, cells, { keep: target });
      onCheck({ check: 'names', ok: true, cell: fixed.name });
      const outcome = await verifyProposal({
        cells: withReplaced(cells, fixed),
        proposed: [fixed],
        engineFor: engineResolver(deps, meta.defaultEngine, new Map()),
        compiler: deps.compiler,
        signal: call.signal,
        onCheck,
      });
      return {
        ok: outcome.ok,
        cells: [fixed],
        note: answer.note,
      };
    },
  });
  const fixed = result.cells[0];
  return {
    id: `prop_${crypto.randomUUID()}`,
    type: 'fix',
    notebookId: call.notebookId,
    request: `Fix ${target.name}`,
    askedBy: call.user,
    verified: result.ok,
    attempts: result.attempts,
    checks: result.checks,
    cells: result.cells,
    targetCellId: target.id,
    original: { source: target.source, config: target.config },
    diff: fixed ? unifiedDiff(cellText(target), cellText(fixed), target.name) : undefined,
    note: result.note,
  };
}

export async function explainCell(
  deps: CopilotDeps,
  call: CopilotCall,
  body: { cellId: string; chain?: boolean },
): Promise<string> {
  const { doc } = call;
  const target = readCell(doc, body.cellId as CellId);
  if (!target) throw new PipebookError('not_found', 'That cell no longer exists.');
  const meta = readMeta(doc);
  const cells = readCells(doc);
  const engine = deps.engines.get(target.engine ?? meta.defaultEngine);
  let chain: string[] = [target.id];
  if (body.chain) {
    try {
      chain = deps.compiler.compile(cells, target.id, engine.info.dialect).chain;
    } catch {
      // A cell that does not compile is still explained on its own.
    }
  }
  const names = cells.filter((c) => chain.includes(c.id)).map((c) => c.name);
  const system = explainSystemPrompt();
  const ask = `Explain ${names.length > 1 ? `the chain ${names.map((n) => `"${n}"`).join(' -> ')}` : `the cell "${target.name}"`}.`;
  const context = buildContext({
    request: names.join(' '),
    dialect: engine.info.dialect,
    tables: [],
    cells: cells.filter((c) => chain.includes(c.id)),
    runs: readRuns(doc),
    focusedCellId: target.id,
    pinnedCellIds: chain,
    budgetTokens: deps.config.promptTokens - estimateTokens(system) - estimateTokens(ask) - 40,
  });
  call.emit({ type: 'attempt', attempt: 1, maxAttempts: 1 });
  const text = await callModel(deps.config, {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: contextMessage(context.text, ask) },
    ],
    signal: call.signal,
    onToken: (t) => call.emit({ type: 'token', text: t }),
    onRateLimited: (s) => call.emit({ type: 'rate_limited', retryAfterSeconds: s }),
  });
  return text.trim();
}

export { applyProposal } from './apply.ts';
