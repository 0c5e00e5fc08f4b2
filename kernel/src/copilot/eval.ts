// Scores a configured endpoint on the evaluation set: for each request the Copilot generates cells into an empty
// notebook over the demo data; the last generated cell is compiled with its chain and run, and its rows are compared
// with the rows of the reference SQL (as multisets, or in order when order is part of the answer; column names and
// column order are free, numbers are compared to 2 decimals).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CellId, initNotebook, readCells } from '@pipebook/shared';
import * as Y from 'yjs';
import { ensureDemoData } from '../demo-data.ts';
import { DuckDBEngine, DuckDBWarehouse } from '../engines/duckdb.ts';
import type { CopilotConfig } from './config.ts';
import { EVAL_SET, type EvalCase } from './eval-set.ts';
import { applyProposal, generateCells } from './service.ts';
import type { CopilotCompiler } from './verify.ts';

export interface EvalResult {
  id: string;
  request: string;
  verified: boolean;
  attempts: number;
  /** The generated cell ran. */
  ran: boolean;
  /** ... and returned the expected rows. */
  correct: boolean;
  seconds: number;
  error?: string;
}

export interface EvalOptions {
  config: CopilotConfig;
  compiler: CopilotCompiler;
  cases?: EvalCase[];
  /** Rows in the demo `orders` table (customers = orders / 8). */
  orders?: number;
  onResult?: (r: EvalResult) => void;
}

function normalize(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v).toFixed(2);
  const s = String(v);
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) return Number(s).toFixed(2);
  const date = /^(\d{4}-\d{2}-\d{2})([ T]00:00:00(\.0+)?)?$/.exec(s);
  if (date) return date[1];
  return s;
}

/** Same rows, ignoring column names and order; row order matters only when `ordered`. */
export function sameRows(actual: unknown[][], expected: unknown[][], ordered = false): boolean {
  if (actual.length !== expected.length) return false;
  if (actual.length && actual[0].length !== expected[0].length) return false;
  const key = (row: unknown[]) => row.map(normalize).sort().join('\u0001');
  const a = actual.map(key);
  const e = expected.map(key);
  if (!ordered) {
    a.sort();
    e.sort();
  }
  return a.every((k, i) => k === e[i]);
}

export async function runEval(opts: EvalOptions): Promise<EvalResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipebook-eval-'));
  const warehouse = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [dir] });
  const results: EvalResult[] = [];
  try {
    await ensureDemoData(warehouse, { orders: opts.orders ?? 20_000, dataDir: dir });
    const engine = new DuckDBEngine(warehouse);
    const deps = { config: opts.config, engines: { get: () => engine }, compiler: opts.compiler };
    for (const c of opts.cases ?? EVAL_SET) {
      const t0 = performance.now();
      const r: EvalResult = {
        id: c.id,
        request: c.request,
        verified: false,
        attempts: 0,
        ran: false,
        correct: false,
        seconds: 0,
      };
      try {
        const doc = new Y.Doc();
        initNotebook(doc, { title: `Eval ${c.id}` });
        const proposal = await generateCells(
          deps,
          {
            doc,
            notebookId: 'eval',
            user: { id: 'eval', name: 'Evaluation' },
            signal: new AbortController().signal,
            emit: () => {},
          },
          { request: c.request },
        );
        r.verified = proposal.verified;
        r.attempts = proposal.attempts;
        if (!proposal.cells.length) throw new Error('No cells came back.');
        const ids = applyProposal(doc, proposal, { id: 'eval' }, { allowFailing: true });
        const sql = opts.compiler.compile(readCells(doc), ids[ids.length - 1] as CellId, 'duckdb').sql;
        const actual = await warehouse.readAll(sql);
        r.ran = true;
        const expected = await warehouse.readAll(c.sql);
        r.correct = sameRows(actual.rowsJson, expected.rowsJson, c.ordered);
        if (!r.correct)
          r.error = `Rows differ: got ${actual.rowsJson.length} rows, expected ${expected.rowsJson.length}.`;
      } catch (err) {
        r.error = err instanceof Error ? err.message : String(err);
      }
      r.seconds = (performance.now() - t0) / 1000;
      results.push(r);
      opts.onResult?.(r);
    }
  } finally {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
