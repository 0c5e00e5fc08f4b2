// The notebook's Yjs connection: the stock y-websocket client to the collaboration server's `/collab/<id>` socket,
// plus a y-indexeddb copy so a reload while offline loses nothing and offline edits merge on reconnect.
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { currentToken } from './auth.ts';

export type LinkStatus = 'connecting' | 'connected' | 'disconnected';

export interface CollabConnection {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly awareness: WebsocketProvider['awareness'];
  /** Resolves once the local IndexedDB copy has been loaded into the doc. */
  readonly localLoaded: Promise<void>;
  destroy(): void;
}

export interface CollabOptions {
  /** ws(s)://host/collab; defaults to this page's origin. */
  serverUrl?: string;
  /** Keep no IndexedDB copy (benchmarks with many clients in one page). */
  noLocalCopy?: boolean;
  /** Cross-tab sync over BroadcastChannel. Off by default: every replica goes through the server. */
  broadcastChannel?: boolean;
  doc?: Y.Doc;
}

export function collabServerUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/collab`;
}

export function openCollab(notebookId: string, opts: CollabOptions = {}): CollabConnection {
  const doc = opts.doc ?? new Y.Doc();
  const token = currentToken();
  const persistence = opts.noLocalCopy ? undefined : new IndexeddbPersistence(`pipebook:${notebookId}`, doc);
  const provider = new WebsocketProvider(opts.serverUrl ?? collabServerUrl(), notebookId, doc, {
    params: token ? { token } : {},
    disableBc: !opts.broadcastChannel,
    maxBackoffTime: 2000,
  });
  // The browser knows before the socket does: leave at once when the network goes, come back when it returns.
  const onOffline = () => provider.disconnect();
  const onOnline = () => provider.connect();
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  if (typeof navigator !== 'undefined' && navigator.onLine === false) provider.disconnect();
  return {
    doc,
    provider,
    awareness: provider.awareness,
    localLoaded: persistence ? persistence.whenSynced.then(() => undefined) : Promise.resolve(),
    destroy() {
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      provider.awareness.setLocalState(null);
      provider.destroy();
      void persistence?.destroy();
      doc.destroy();
    },
  };
}
