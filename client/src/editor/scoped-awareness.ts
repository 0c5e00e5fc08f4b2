// Remote cursors at scale. y-codemirror.next makes every editor re-render its remote selections on every awareness
// change of any client, so with hundreds of cells one colleague's keystroke (their cursor moves) costs hundreds of
// editor updates. Here awareness changes are resolved once to the Y.Text each cursor is in, and each editor sees only
// changes of cursors that are, or just were, in its own text.
// biome-ignore-all lint/suspicious/noExplicitAny: Yjs types are keyed by their event type; cursors can be in any of them
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';

type ChangeListener = (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void;

export interface CursorIndex {
  /** Calls `fn` when a remote cursor enters, moves in or leaves `text`. Returns an unsubscribe function. */
  subscribe(text: Y.Text, fn: ChangeListener): () => void;
  destroy(): void;
}

function textOfCursor(state: Record<string, unknown> | undefined, doc: Y.Doc): Y.AbstractType<any> | null {
  const cursor = state?.cursor as { head?: unknown } | null | undefined;
  if (!cursor?.head) return null;
  try {
    const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(cursor.head), doc);
    return abs?.type ?? null;
  } catch {
    return null;
  }
}

export function createCursorIndex(awareness: Awareness, doc: Y.Doc): CursorIndex {
  const where = new Map<number, Y.AbstractType<any> | null>();
  const subs = new Map<Y.AbstractType<any>, Set<ChangeListener>>();
  const onChange = (ch: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
    const states = awareness.getStates() as Map<number, Record<string, unknown>>;
    const touched = new Map<Y.AbstractType<any>, number[]>();
    const note = (t: Y.AbstractType<any> | null | undefined, id: number) => {
      if (!t) return;
      const list = touched.get(t);
      if (list) list.push(id);
      else touched.set(t, [id]);
    };
    for (const id of [...ch.added, ...ch.updated, ...ch.removed]) {
      if (id === doc.clientID) continue;
      const before = where.get(id);
      const now = ch.removed.includes(id) ? null : textOfCursor(states.get(id), doc);
      if (now) where.set(id, now);
      else where.delete(id);
      note(before, id);
      if (now !== before) note(now, id);
    }
    for (const [t, ids] of touched) {
      for (const fn of subs.get(t) ?? []) fn({ added: [], updated: ids, removed: [] }, origin);
    }
  };
  awareness.on('change', onChange);
  return {
    subscribe(text, fn) {
      let set = subs.get(text);
      if (!set) {
        set = new Set();
        subs.set(text, set);
      }
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0) subs.delete(text);
      };
    },
    destroy() {
      awareness.off('change', onChange);
      subs.clear();
    },
  };
}

/**
 * The awareness one editor is given: the real one for everything (its own cursor is still published), except that
 * 'change' listeners only hear about cursors in `text`.
 */
export function scopedAwareness(awareness: Awareness, index: CursorIndex, text: Y.Text): Awareness {
  const unsubs = new Map<ChangeListener, () => void>();
  return new Proxy(awareness, {
    get(target, prop, receiver) {
      if (prop === 'on' || prop === 'off') {
        return (event: string, fn: ChangeListener) => {
          if (event !== 'change')
            return (Reflect.get(target, prop, receiver) as (e: string, f: unknown) => void).call(target, event, fn);
          if (prop === 'on') unsubs.set(fn, index.subscribe(text, fn));
          else {
            unsubs.get(fn)?.();
            unsubs.delete(fn);
          }
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
