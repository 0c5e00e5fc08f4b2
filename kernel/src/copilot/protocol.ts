// The Copilot's HTTP/SSE protocol between the kernel and the browser. Request bodies are validated here with zod;
// events are a union discriminated by `type`. The client imports these types only.
import type { CellConfig, CellKind, ErrorBody } from '@pipebook/shared';
import { z } from 'zod';

export const COPILOT_PROTOCOL_VERSION = 1;

export const generateBody = z.object({
  request: z.string().trim().min(1, 'Say what the cells should compute.').max(4000),
  /** Generated cells go after this cell (the focused one); absent = at the end. */
  afterCellId: z.string().max(100).optional(),
  /** Engine the new cells run on; absent = the notebook's default. */
  engine: z.string().max(100).optional(),
});
export type GenerateBody = z.infer<typeof generateBody>;

export const fixBody = z.object({
  cellId: z.string().min(1).max(100),
  /** The error to fix; absent = the cell's last run error from the notebook. */
  error: z.string().max(8000).optional(),
});
export type FixBody = z.infer<typeof fixBody>;

export const explainBody = z.object({
  cellId: z.string().min(1).max(100),
  /** Explain the cell together with the cells it reads from. */
  chain: z.boolean().optional(),
});
export type ExplainBody = z.infer<typeof explainBody>;

export const acceptBody = z.object({
  /** Insert (or apply) even though verification failed: the user chose the draft. */
  allowFailing: z.boolean().optional(),
});

export type CheckName = 'schema' | 'names' | 'compile' | 'engine';

export interface CheckResult {
  check: CheckName;
  ok: boolean;
  /** The cell the check is about, by name; absent for whole-answer checks (schema). */
  cell?: string;
  message?: string;
}

export interface ProposedCell {
  id: string;
  name: string;
  kind: CellKind;
  source: string;
  config: Record<string, unknown> | CellConfig;
  description: string;
  /** Engine override when the request asked for a non-default engine. */
  engine?: string;
  /** Output columns the engine reported while validating, when it got that far. */
  columns?: Array<{ name: string; type: string }>;
}

export interface Proposal {
  id: string;
  type: 'generate' | 'fix';
  notebookId: string;
  request: string;
  askedBy: { id: string; name: string };
  /** Every check of the last attempt passed. */
  verified: boolean;
  attempts: number;
  /** Checks of the last attempt. */
  checks: CheckResult[];
  cells: ProposedCell[];
  /** generate: insert after this cell. */
  afterCellId?: string;
  /** fix: the cell being corrected, its current source and a unified diff to the proposed one. */
  targetCellId?: string;
  original?: { source: string; config: Record<string, unknown> };
  diff?: string;
  note?: string;
}

export type CopilotEvent =
  | { type: 'started'; requestId: string; version: number }
  | { type: 'context'; tokens: number; tables: number; omittedTables: number; cells: number }
  | { type: 'attempt'; attempt: number; maxAttempts: number }
  | { type: 'token'; text: string }
  | { type: 'rate_limited'; retryAfterSeconds?: number }
  | { type: 'check'; attempt: number; result: CheckResult }
  | { type: 'proposal'; proposal: Proposal }
  | { type: 'explanation'; text: string }
  | { type: 'error'; error: ErrorBody }
  | { type: 'done' };

export type CopilotStatusBody =
  | { configured: true; model: string; endpoint: string }
  | { configured: false; reason: string; howTo: string };
