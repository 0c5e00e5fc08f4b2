// One run's state in the kernel: its plan, each step's state, its events, and what it answers to GET /api/runs/:id.
import {
  type CellId,
  type CellSnapshot,
  type ErrorBody,
  PipebookError,
  type RunStatus,
  type RunUser,
} from '@pipebook/shared';
import type { CellOutcome, RunInfo, RunScope, RunState } from '@pipebook/shared/protocol/kernel';
import type * as Y from 'yjs';
import { RunEventLog } from './events.ts';
import type { PlanStep } from './planner.ts';

export type StepState = 'waiting' | 'queued' | 'running' | CellOutcome;

export interface StepRuntime {
  step: PlanStep;
  state: StepState;
  queuedAt: number;
  startedAt?: number;
  rowCount?: number;
  error?: ErrorBody;
  /** It waited for another run computing the same cell with the same inputs, and may reuse that result. */
  waited?: boolean;
}

export function toPipebookError(e: unknown): PipebookError {
  if (e instanceof PipebookError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new PipebookError('internal', message || 'Unexpected error', { cause: e });
}

export class Run {
  readonly events: RunEventLog;
  readonly abort = new AbortController();
  readonly createdAt = Date.now();
  finishedAt?: number;
  state: RunState = 'queued';
  readonly steps = new Map<CellId, StepRuntime>();
  constructor(
    readonly runId: string,
    readonly notebookId: string,
    readonly scope: RunScope,
    readonly cellId: string | undefined,
    readonly by: RunUser,
    readonly doc: Y.Doc,
    readonly release: () => void,
    readonly cells: CellSnapshot[],
    readonly hashes: Map<CellId, string>,
    /** Per cell, the state of the data files it reads, directly or through its inputs. */
    readonly filesStamp: (cellId: CellId) => string,
    plan: PlanStep[],
  ) {
    this.events = new RunEventLog(runId);
    const now = Date.now();
    for (const step of plan) this.steps.set(step.cellId, { step, state: 'waiting', queuedAt: now });
  }

  info(): RunInfo {
    return {
      runId: this.runId,
      notebookId: this.notebookId,
      scope: this.scope,
      ...(this.cellId ? { cellId: this.cellId } : {}),
      state: this.state,
      by: this.by,
      createdAt: this.createdAt,
      ...(this.finishedAt ? { finishedAt: this.finishedAt } : {}),
      cells: [...this.steps.values()].map((s) => ({
        cellId: s.step.cellId,
        action: s.step.action,
        status: stepStatus(s.state),
        ...(s.rowCount !== undefined ? { rowCount: s.rowCount } : {}),
        ...(s.error ? { error: s.error } : {}),
      })),
    };
  }
}

export function stepStatus(s: StepState): RunStatus {
  switch (s) {
    case 'waiting':
    case 'queued':
      return 'queued';
    case 'running':
      return 'running';
    case 'reused':
    case 'done':
      return 'done';
    case 'error':
      return 'error';
    case 'cancelled':
      return 'cancelled';
    case 'blocked':
      return 'blocked';
  }
}

export function isResolved(s: StepState): boolean {
  return s !== 'waiting' && s !== 'queued' && s !== 'running';
}
