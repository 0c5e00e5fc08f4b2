// Landing a proposal in a notebook: pure over a Y.Doc and the shared operations, so the kernel (accept route) and the
// browser's Copilot panel (its own replica, where the user's undo lives) apply proposals the same way.
import {
  addCells,
  type CellId,
  createOrigin,
  PipebookError,
  readCell,
  setConfig,
  setSource,
  type TxOrigin,
} from '@pipebook/shared';
import type * as Y from 'yjs';
import type { Proposal } from './protocol.ts';

/**
 * Lands a proposal in the notebook in one transaction with a Copilot origin naming who asked, so one undo removes
 * it and collaborators can tell where it came from. Unverified proposals need `allowFailing`.
 */
export function applyProposal(
  doc: Y.Doc,
  proposal: Proposal,
  user: { id: string },
  opts: { allowFailing?: boolean } = {},
  /** Callers that track undo pass their own origin object (Y.UndoManager matches origins by identity). */
  origin: TxOrigin = createOrigin('copilot', user.id),
): CellId[] {
  if (!proposal.cells.length) throw new PipebookError('bad_request', 'This proposal has no cells to insert.');
  if (!proposal.verified && !opts.allowFailing)
    throw new PipebookError(
      'bad_request',
      'The proposal did not pass verification; choose to insert the draft anyway.',
    );
  if (proposal.type === 'generate') {
    const exists = proposal.afterCellId !== undefined && readCell(doc, proposal.afterCellId as CellId) !== undefined;
    return addCells(
      doc,
      proposal.cells.map((c) => ({
        id: c.id as CellId,
        name: c.name,
        kind: c.kind,
        source: c.source,
        config: c.config as Record<string, unknown>,
        ...(c.engine ? { engine: c.engine } : {}),
      })),
      exists ? { after: proposal.afterCellId as CellId } : undefined,
      origin,
    );
  }
  const fixed = proposal.cells[0];
  const current = readCell(doc, fixed.id as CellId);
  if (!current) throw new PipebookError('not_found', 'The cell being fixed no longer exists.');
  doc.transact(() => {
    setSource(doc, current.id, fixed.source, origin);
    const patch: Record<string, unknown> = {};
    for (const k of Object.keys(current.config)) patch[k] = undefined;
    Object.assign(patch, fixed.config);
    setConfig(doc, current.id, patch, origin);
  }, origin);
  return [current.id];
}
