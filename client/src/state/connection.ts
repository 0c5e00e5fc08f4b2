// Connection state for the indicator: online when the socket is up and synced, offline when the browser or the
// server is unreachable (edits keep going to the local copy), closed when the server refused us (bad token, revoked).
import { type Accessor, createSignal } from 'solid-js';
import type { CollabConnection } from '../net/collab.ts';

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'online' }
  | { kind: 'offline' }
  | { kind: 'closed'; code: number; reason: string };

/** Close codes the collaboration server uses for auth (see docs/api): named here so the UI can explain them. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;

export function describeClose(code: number, reason: string): string {
  if (code === CLOSE_UNAUTHORIZED) return `Your sign-in is not valid (${reason || 'bad or expired token'}).`;
  if (code === CLOSE_FORBIDDEN) return `You no longer have access to this notebook${reason ? ` (${reason})` : ''}.`;
  return reason || `The server closed the connection (${code}).`;
}

export function createConnectionState(conn: CollabConnection): { state: Accessor<ConnectionState>; dispose(): void } {
  const offlineNow = typeof navigator !== 'undefined' && navigator.onLine === false;
  const [state, setState] = createSignal<ConnectionState>(offlineNow ? { kind: 'offline' } : { kind: 'connecting' });
  const p = conn.provider;
  const onStatus = (e: { status: string }) => {
    if (e.status === 'connected') setState(p.synced ? { kind: 'online' } : { kind: 'connecting' });
    else if (e.status === 'disconnected') setState((s) => (s.kind === 'closed' ? s : { kind: 'offline' }));
  };
  const onSync = (synced: boolean) => {
    if (synced && p.wsconnected) setState({ kind: 'online' });
  };
  const onClosed = (e: { code: number; reason: string }) =>
    setState({ kind: 'closed', code: e.code, reason: e.reason });
  p.on('status', onStatus);
  p.on('sync', onSync);
  p.on('closed', onClosed);
  return {
    state,
    dispose() {
      p.off('status', onStatus);
      p.off('sync', onSync);
      p.off('closed', onClosed);
    },
  };
}
