// Copilot changes carry the origin { source: 'copilot', userId }. Y.UndoManager matches origins by identity, so there
// is one origin object per user: an undo manager that tracks it (`undoManager.addTrackedOrigin(copilotOrigin(id))`)
// undoes a whole Copilot insert in one step.
import { createOrigin, type TxOrigin } from '@pipebook/shared';

const origins = new Map<string, TxOrigin>();

export function copilotOrigin(userId: string): TxOrigin {
  let o = origins.get(userId);
  if (!o) {
    o = createOrigin('copilot', userId);
    origins.set(userId, o);
  }
  return o;
}
