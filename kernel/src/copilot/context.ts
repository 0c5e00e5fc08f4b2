// The model's view of the notebook and the warehouse ("knowledge graph"): the engine catalog, the notebook's cells
// with their output columns from the last run, and the dialect, ranked against the request and cut to a token
// budget. Tables and cells the request names come first, then cells near the focused one and tables that share
// words with the request or are read by the notebook; whatever does not fit is listed by name only, or dropped.
import type { CellSnapshot, RunSummary } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import type { CatalogTable } from '../engines/engine.ts';
import { estimateTokens } from './tokens.ts';

export interface ContextInput {
  request: string;
  dialect: Dialect;
  tables: CatalogTable[];
  cells: CellSnapshot[];
  runs: Record<string, RunSummary>;
  focusedCellId?: string;
  /** Cells that must be shown in full when possible (the cell being fixed or explained and its chain). */
  pinnedCellIds?: string[];
  budgetTokens: number;
}

export interface BuiltContext {
  text: string;
  tokens: number;
  includedTables: string[];
  omittedTables: string[];
  includedCells: string[];
  omittedCells: string[];
}

const MAX_SOURCE_CHARS = 1500;
const COMPACT_COLUMNS = 12;

/** Lower-cased words of a text, split on non-alphanumerics and underscores, with a plural `s` dropped. */
export function stems(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (raw.length < 2) continue;
    out.add(raw.length > 3 && raw.endsWith('s') ? raw.slice(0, -1) : raw);
  }
  return out;
}

/** Whether the request names `name` as a whole word (case-insensitive, singular or plural). */
export function mentions(request: string, name: string): boolean {
  const lower = request.toLowerCase();
  const n = name.toLowerCase();
  const base = n.endsWith('s') ? n.slice(0, -1) : n;
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9_])${escaped}(s|es)?($|[^a-z0-9_])`).test(lower);
}

function qualified(t: CatalogTable): string {
  const parts = [t.catalog, t.schema && t.schema !== 'main' ? t.schema : undefined, t.name].filter(Boolean);
  return parts.join('.');
}

function renderTable(t: CatalogTable, maxColumns = Number.POSITIVE_INFINITY): string {
  const cols = t.columns.slice(0, maxColumns).map((c) => `${c.name} ${c.type}`);
  const more = t.columns.length > maxColumns ? `, … ${t.columns.length - maxColumns} more` : '';
  return `- ${qualified(t)}(${cols.join(', ')}${more})`;
}

function configWithNames(config: Record<string, unknown>, nameOf: Map<string, string>): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return nameOf.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(config);
}

function renderCell(
  c: CellSnapshot,
  run: RunSummary | undefined,
  nameOf: Map<string, string>,
  maxSource = MAX_SOURCE_CHARS,
): string {
  const lines = [`### ${c.name} (${c.kind}${c.engine ? `, engine ${c.engine}` : ''})`];
  if (run?.columns?.length) lines.push(`columns: ${run.columns.map((x) => `${x.name} ${x.type}`).join(', ')}`);
  if (run?.status === 'error' && run.error) lines.push(`last run failed: ${run.error.message}`);
  if (c.kind === 'sql' || c.kind === 'markdown' || c.kind === 'pyspark') {
    const src = c.source.length > maxSource ? `${c.source.slice(0, maxSource)}\n-- … (truncated)` : c.source;
    if (src.trim()) lines.push(src.trim());
  } else {
    lines.push(`config: ${JSON.stringify(configWithNames(c.config, nameOf))}`);
  }
  return lines.join('\n');
}

/** Tables a notebook already reads: source cells' configured tables and words of its SQL. */
function tablesReadByNotebook(cells: CellSnapshot[]): Set<string> {
  const out = new Set<string>();
  for (const c of cells) {
    if (c.kind === 'source' && typeof c.config.table === 'string') out.add(c.config.table.toLowerCase());
    if (c.kind === 'sql') for (const w of c.source.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []) out.add(w);
  }
  return out;
}

function tableScore(t: CatalogTable, requestStems: Set<string>, readByNotebook: Set<string>): number {
  let score = 0;
  for (const s of stems(t.name)) if (requestStems.has(s)) score += 3;
  for (const col of t.columns) for (const s of stems(col.name)) if (requestStems.has(s)) score += 1;
  if (readByNotebook.has(t.name.toLowerCase())) score += 4;
  return score;
}

export function buildContext(input: ContextInput): BuiltContext {
  const { request, cells, runs } = input;
  const nameOf = new Map(cells.map((c) => [c.id as string, c.name]));
  const requestStems = stems(request);
  const readByNotebook = tablesReadByNotebook(cells);
  const pinned = new Set(input.pinnedCellIds ?? []);
  const order = new Map(cells.map((c, i) => [c.id as string, i]));
  const focusIndex =
    input.focusedCellId !== undefined ? (order.get(input.focusedCellId) ?? cells.length) : cells.length;

  // Rank: named first, then the rest by relevance (stable on ties, so the prompt is deterministic).
  const rankedCells = cells
    .map((c) => ({
      c,
      named: pinned.has(c.id) || c.id === input.focusedCellId || mentions(request, c.name),
      distance: Math.abs((order.get(c.id) ?? 0) - focusIndex),
    }))
    .sort((a, b) => Number(b.named) - Number(a.named) || a.distance - b.distance);
  const rankedTables = input.tables
    .map((t, i) => ({
      t,
      i,
      named: mentions(request, t.name) || mentions(request, qualified(t)),
      score: tableScore(t, requestStems, readByNotebook),
    }))
    .sort((a, b) => Number(b.named) - Number(a.named) || b.score - a.score || a.i - b.i);

  const header = `Dialect: ${input.dialect}`;
  let used = estimateTokens(header) + 40; // section headings and separators
  const fits = (text: string) => used + estimateTokens(text) + 1 <= input.budgetTokens;
  const takeCell = new Map<string, string>();
  const takeTable = new Map<CatalogTable, string>();

  const tryCell = (c: CellSnapshot) => {
    for (const maxSource of [MAX_SOURCE_CHARS, 300]) {
      const text = renderCell(c, runs[c.id], nameOf, maxSource);
      if (fits(text)) {
        takeCell.set(c.id, text);
        used += estimateTokens(text) + 1;
        return;
      }
    }
  };
  const tryTable = (t: CatalogTable) => {
    for (const max of [Number.POSITIVE_INFINITY, COMPACT_COLUMNS]) {
      const text = renderTable(t, max);
      if (fits(text)) {
        takeTable.set(t, text);
        used += estimateTokens(text) + 1;
        return;
      }
    }
  };

  for (const x of rankedCells) if (x.named) tryCell(x.c);
  for (const x of rankedTables) if (x.named) tryTable(x.t);
  for (const x of rankedCells) if (!x.named) tryCell(x.c);
  for (const x of rankedTables) if (!x.named && x.score > 0) tryTable(x.t);
  for (const x of rankedTables) if (!x.named && x.score === 0) tryTable(x.t);

  // Names of what did not fit, while there is room: the model can at least ask for them by name.
  const omittedTables = rankedTables.filter((x) => !takeTable.has(x.t)).map((x) => qualified(x.t));
  const namesOnly: string[] = [];
  for (const n of omittedTables) {
    if (!fits(`${n}, `)) break;
    namesOnly.push(n);
    used += estimateTokens(`${n}, `);
  }

  const parts = [header];
  const shownCells = cells.filter((c) => takeCell.has(c.id));
  if (shownCells.length) {
    parts.push(
      '## Notebook cells (in order; SQL reads a cell by its name, e.g. FROM cell_name)',
      ...shownCells.map((c) => takeCell.get(c.id)!),
    );
  } else {
    parts.push('## Notebook cells\n(none)');
  }
  // Most relevant first: models attend best to what comes early.
  const shownTables = rankedTables.map((x) => x.t).filter((t) => takeTable.has(t));
  parts.push('## Warehouse tables, most relevant first (name(column TYPE, ...))');
  parts.push(shownTables.length ? shownTables.map((t) => takeTable.get(t)!).join('\n') : '(none)');
  if (namesOnly.length) {
    const rest = omittedTables.length - namesOnly.length;
    parts.push(
      `## More tables (columns not shown)\n${namesOnly.join(', ')}${rest > 0 ? ` and ${rest} more not listed` : ''}`,
    );
  }
  const text = parts.join('\n\n');
  return {
    text,
    tokens: estimateTokens(text),
    includedTables: shownTables.map(qualified),
    omittedTables,
    includedCells: shownCells.map((c) => c.name),
    omittedCells: cells.filter((c) => !takeCell.has(c.id)).map((c) => c.name),
  };
}
