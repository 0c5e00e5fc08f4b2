// Verification before anything lands: each proposed cell is compiled with the shared compiler inside the notebook as
// it would be after inserting (references resolve, no cycle, no duplicate name), then the engine checks the compiled
// SQL cheaply (DuckDB: DESCRIBE, no rows read). The checks and their messages are shown to the user and, on failure,
// sent back to the model.
import type { CellId, CellSnapshot } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import type { Engine } from '../engines/engine.ts';
import type { CheckResult, ProposedCell } from './protocol.ts';

/** What verification needs from the shared compiler (`buildGraph` + `compileCell`). */
export interface CopilotCompiler {
  /** Per-cell graph errors (unknown_reference, cycle, duplicate_name) of a notebook's cells. */
  graphErrors(cells: CellSnapshot[], dialect: Dialect): Map<string, { code: string; message: string }>;
  /** The cell and its upstream chain as one SELECT. Throws PipebookError on compile errors. */
  compile(cells: CellSnapshot[], cellId: CellId, dialect: Dialect): { sql: string; chain: string[] };
}

export interface VerifyInput {
  /** The notebook's cells as they would be with the proposal applied, in display order. */
  cells: CellSnapshot[];
  /** The proposed cells (already part of `cells`). */
  proposed: ProposedCell[];
  engineFor: (cell: CellSnapshot) => Engine;
  compiler: CopilotCompiler;
  signal: AbortSignal;
  onCheck?: (r: CheckResult) => void;
}

export interface VerifyOutcome {
  ok: boolean;
  checks: CheckResult[];
}

/** The notebook with new cells inserted after `afterCellId` (absent or unknown = at the end). */
export function withInserted(cells: CellSnapshot[], proposed: ProposedCell[], afterCellId?: string): CellSnapshot[] {
  const snaps = proposed.map(toSnapshot);
  const i = afterCellId === undefined ? -1 : cells.findIndex((c) => c.id === afterCellId);
  const at = i === -1 ? cells.length : i + 1;
  return [...cells.slice(0, at), ...snaps, ...cells.slice(at)];
}

/** The notebook with one cell's source/config replaced. */
export function withReplaced(cells: CellSnapshot[], replacement: ProposedCell): CellSnapshot[] {
  return cells.map((c) => (c.id === replacement.id ? { ...toSnapshot(replacement), engine: c.engine } : c));
}

export function toSnapshot(p: ProposedCell): CellSnapshot {
  return {
    id: p.id as CellId,
    name: p.name,
    kind: p.kind,
    source: p.source,
    config: p.config as Record<string, unknown>,
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function verifyProposal(input: VerifyInput): Promise<VerifyOutcome> {
  const checks: CheckResult[] = [];
  const record = (r: CheckResult) => {
    checks.push(r);
    input.onCheck?.(r);
  };
  const byId = new Map(input.cells.map((c) => [c.id as string, c]));
  const dialectOf = (c: CellSnapshot) => input.engineFor(c).info.dialect;
  const firstDialect = input.proposed.length ? dialectOf(byId.get(input.proposed[0].id)!) : 'duckdb';
  let graph: Map<string, { code: string; message: string }>;
  try {
    graph = input.compiler.graphErrors(input.cells, firstDialect);
  } catch (err) {
    for (const p of input.proposed) record({ check: 'compile', ok: false, cell: p.name, message: message(err) });
    return { ok: false, checks };
  }
  for (const p of input.proposed) {
    input.signal.throwIfAborted();
    const cell = byId.get(p.id)!;
    const graphError = graph.get(p.id);
    if (graphError) {
      record({ check: 'compile', ok: false, cell: p.name, message: graphError.message });
      continue;
    }
    let sql: string;
    try {
      sql = input.compiler.compile(input.cells, p.id as CellId, dialectOf(cell)).sql;
      record({ check: 'compile', ok: true, cell: p.name });
    } catch (err) {
      record({ check: 'compile', ok: false, cell: p.name, message: message(err) });
      continue;
    }
    try {
      const columns = await input.engineFor(cell).validate(sql, input.signal);
      p.columns = columns.map((c) => ({ name: c.name, type: c.type }));
      record({ check: 'engine', ok: true, cell: p.name, message: `${columns.length} columns` });
    } catch (err) {
      input.signal.throwIfAborted();
      record({ check: 'engine', ok: false, cell: p.name, message: message(err) });
    }
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/** Feedback for the next attempt: only the failed checks, in the model's terms. */
export function feedbackFor(checks: CheckResult[]): string {
  const failed = checks.filter((c) => !c.ok);
  return [
    'Your previous answer failed these checks:',
    ...failed.map((c) => `- ${c.cell ? `cell "${c.cell}", ` : ''}${c.check}: ${c.message ?? 'failed'}`),
    'Return the complete corrected answer in the same JSON format. Use only the tables and cells listed above.',
  ].join('\n');
}
