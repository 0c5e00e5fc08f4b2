// Presence: who is in the notebook and which cell each person is in, from Yjs awareness. The `user` field follows
// y-codemirror.next's shape (name, color, colorLight) so remote cursors are labelled with the same data.
import { type Accessor, createSignal } from 'solid-js';
import type { Awareness } from 'y-protocols/awareness';
import { colorFor, type Identity } from '../net/auth.ts';

export interface Peer {
  clientId: number;
  userId: string;
  name: string;
  color: string;
  /** The cell this person's cursor is in, if any. */
  cellId?: string;
  self: boolean;
}

interface AwarenessUser {
  id?: string;
  name?: string;
  color?: string;
  colorLight?: string;
}

/** One entry per connected client, yourself first, then by name; states without a user are still joining. */
export function peersFromStates(states: Map<number, Record<string, unknown>>, selfId: number): Peer[] {
  const out: Peer[] = [];
  for (const [clientId, state] of states) {
    const user = state.user as AwarenessUser | undefined;
    if (!user?.name) continue;
    out.push({
      clientId,
      userId: user.id ?? String(clientId),
      name: user.name,
      color: user.color ?? '#888',
      cellId: typeof state.cellId === 'string' ? state.cellId : undefined,
      self: clientId === selfId,
    });
  }
  return out.sort((a, b) =>
    a.self === b.self ? a.name.localeCompare(b.name) || a.clientId - b.clientId : a.self ? -1 : 1,
  );
}

export interface PresenceStore {
  peers: Accessor<Peer[]>;
  /** Peers other than yourself, per cell id. */
  othersIn(cellId: string): Peer[];
  setFocusedCell(cellId: string | undefined): void;
  dispose(): void;
}

export function createPresence(awareness: Awareness, me: Identity): PresenceStore {
  const { color, light } = colorFor(me.id);
  awareness.setLocalStateField('user', { id: me.id, name: me.name, color, colorLight: light });
  const read = () => peersFromStates(awareness.getStates() as Map<number, Record<string, unknown>>, awareness.clientID);
  // Cursor moves inside a cell change awareness on every keystroke; only who is here and in which cell matters here.
  const key = (ps: Peer[]) =>
    ps.map((p) => `${p.clientId}\u0000${p.name}\u0000${p.color}\u0000${p.cellId ?? ''}`).join('\u0001');
  const [peers, setPeers] = createSignal<Peer[]>(read(), { equals: (a, b) => key(a) === key(b) });
  const onChange = () => setPeers(read());
  awareness.on('change', onChange);
  return {
    peers,
    othersIn: (cellId) => peers().filter((p) => !p.self && p.cellId === cellId),
    setFocusedCell(cellId) {
      if (awareness.getLocalState()?.cellId !== cellId) awareness.setLocalStateField('cellId', cellId ?? null);
    },
    dispose() {
      awareness.off('change', onChange);
    },
  };
}
