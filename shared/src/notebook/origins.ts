// Typed transaction origins: undo, storage and broadcast decide what to do by who made a change.
export type OriginSource = 'user' | 'kernel' | 'copilot' | 'restore' | 'redis' | 'server' | 'import';

export interface TxOrigin {
  readonly source: OriginSource;
  /** The person (or service) on whose behalf the change was made. */
  readonly userId?: string;
}

/**
 * Y.UndoManager tracks origins by identity, so each actor keeps one origin object and passes it to every operation.
 */
export function createOrigin(source: OriginSource, userId?: string): TxOrigin {
  return Object.freeze({ source, userId });
}

export function isTxOrigin(x: unknown): x is TxOrigin {
  return typeof x === 'object' && x !== null && typeof (x as { source?: unknown }).source === 'string';
}
