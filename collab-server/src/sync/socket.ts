// The document socket at /collab/<notebookId>: authenticates the handshake before the upgrade completes, then turns
// frames into hub calls. Limits (SPEC.md H1-H6) are enforced here, before anything reaches a document.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { NotebookId, PipebookError } from '@pipebook/shared';
import { WebSocket, WebSocketServer } from 'ws';
import type { Access, Identity } from '../auth/access.ts';
import type { CollabLimits } from '../config.ts';
import type { Role } from '../http/features.ts';
import { type DocHub, DocTooLargeError, type Logger } from './hub.ts';
import type { CollabMetrics } from './metrics.ts';
import type { Peer } from './peer.ts';
import { CloseCode, decodeClientMessage, ProtocolError } from './protocol.ts';
import type { Room } from './room.ts';
import { binaryFrame } from './ws-frame.ts';

const PING_INTERVAL_MS = 30_000;
/** A peer whose unsent data grows past this is too slow to keep up and is dropped. */
const MAX_BUFFERED_FACTOR = 4;

const PEER = Symbol('peer');
type PeerSocket = WebSocket & { [PEER]?: SocketPeer };

type HandshakeResult =
  | { ok: true; user: Identity; role: Role; notebookId: string }
  | { ok: false; code: number; reason: string; label: string };

class SocketPeer implements Peer {
  readonly awarenessIds = new Set<number>();
  alive = true;
  room: Room | null = null;
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    readonly ws: WebSocket,
    /** The connection under ws: frames are written to it directly (see ws-frame.ts), after ws's own, in order. */
    private readonly stream: Duplex,
    readonly user: Identity,
    public role: Role,
    private readonly limits: CollabLimits,
    private readonly metrics: CollabMetrics,
  ) {
    this.tokens = limits.messagesPerSecond * 2;
  }

  send(message: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.limits.maxMessageBytes * MAX_BUFFERED_FACTOR) {
      this.close(CloseCode.MessageTooBig, 'too far behind');
      return;
    }
    this.metrics.broadcastBytesTotal += message.length;
    const frame = frameOf(message);
    if (Array.isArray(frame)) {
      this.stream.cork();
      this.stream.write(frame[0]);
      this.stream.write(frame[1]);
      this.stream.uncork();
    } else {
      this.stream.write(frame);
    }
  }

  close(code: number, reason: string): void {
    closeSocket(this.ws, code, reason, this.metrics);
  }

  /** Token bucket: messagesPerSecond sustained, twice that in a burst. */
  take(): boolean {
    const now = Date.now();
    const rate = this.limits.messagesPerSecond;
    this.tokens = Math.min(rate * 2, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function closeSocket(ws: WebSocket, code: number, reason: string, metrics: CollabMetrics): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  metrics.count(metrics.closedTotal, reason);
  // A close reason may hold at most 123 bytes.
  ws.close(code, Buffer.from(reason).subarray(0, 120).toString());
  // A peer that never answers the close handshake is cut off.
  setTimeout(() => ws.terminate(), 1000).unref();
}

function ignoreError(): void {}

// The hub sends one message object to every peer of a room in turn: it is framed for the first and reused for the rest.
// The cache is dropped once this synchronous turn ends, so it holds no message past its broadcast.
let framedMessage: Uint8Array | null = null;
let framed: Buffer | [Buffer, Buffer] | null = null;
function forgetFrame(): void {
  framedMessage = null;
  framed = null;
}
function frameOf(message: Uint8Array): Buffer | [Buffer, Buffer] {
  if (message === framedMessage && framed) return framed;
  if (framedMessage === null) queueMicrotask(forgetFrame);
  framedMessage = message;
  framed = binaryFrame(message);
  return framed;
}

function refuseHttp(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export interface CollabSocket {
  close(): void;
  /** Open document sockets. */
  readonly size: number;
}

export function attachCollabSocket(
  server: http.Server,
  deps: { hub: DocHub; access: Access; limits: CollabLimits; metrics: CollabMetrics; log: Logger },
): CollabSocket {
  const { hub, access, limits, metrics, log } = deps;
  // H1: ws refuses a frame larger than maxPayload while reading its header, before buffering or decoding it.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    // Must stay off: SocketPeer.send writes plain frames itself, which a compressed connection could not read.
    perMessageDeflate: false,
    clientTracking: false,
  });
  const peers = new Set<SocketPeer>();
  let pendingHandshakes = 0;

  async function authenticate(rawId: string, token: string | undefined): Promise<HandshakeResult> {
    let notebookId: string;
    try {
      notebookId = decodeURIComponent(rawId);
    } catch {
      notebookId = '';
    }
    if (!NotebookId.isValid(notebookId)) {
      return { ok: false, code: CloseCode.NotFound, reason: 'no such notebook', label: 'not_found' } as const;
    }
    let user: Identity;
    try {
      user = await access.identify(token);
    } catch (e) {
      const reason = e instanceof PipebookError ? e.message : 'invalid token';
      return { ok: false, code: CloseCode.Unauthorized, reason, label: 'unauthorized' } as const;
    }
    try {
      const role = access.require(user, notebookId, 'viewer');
      return { ok: true, user, role, notebookId } as const;
    } catch (e) {
      if (e instanceof PipebookError && e.code === 'not_found') {
        return { ok: false, code: CloseCode.NotFound, reason: 'no such notebook', label: 'not_found' } as const;
      }
      return {
        ok: false,
        code: CloseCode.Forbidden,
        reason: 'no access to this notebook',
        label: 'forbidden',
      } as const;
    }
  }

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // A module-level function, not a closure: a closure here would keep this handshake's request, headers and timer
    // alive for as long as the socket lives.
    socket.on('error', ignoreError);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/collab\/([^/]+)$/.exec(url.pathname);
    if (!match) {
      refuseHttp(socket, '404 Not Found');
      return;
    }
    // H5: sockets that have not authenticated yet are capped in number and time, and nothing they send is read.
    if (pendingHandshakes >= limits.maxPendingHandshakes) {
      metrics.count(metrics.handshakesRejectedTotal, 'busy');
      refuseHttp(socket, '503 Service Unavailable');
      return;
    }
    pendingHandshakes++;
    metrics.pendingHandshakes = pendingHandshakes;
    const timer = setTimeout(() => socket.destroy(), limits.authTimeoutMs);
    timer.unref();
    const token = url.searchParams.get('token') ?? undefined;
    authenticate(match[1], token)
      .catch((e): HandshakeResult => {
        log.error('handshake failed', e);
        return { ok: false, code: CloseCode.InternalError, reason: 'internal error', label: 'internal' };
      })
      .then((result: HandshakeResult) => {
        pendingHandshakes--;
        metrics.pendingHandshakes = pendingHandshakes;
        clearTimeout(timer);
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => {
          if (!result.ok) {
            // S7: the upgrade completes only to carry a typed close code the browser can read.
            metrics.count(metrics.handshakesRejectedTotal, result.label);
            ws.on('error', ignoreError);
            closeSocket(ws, result.code, result.reason, metrics);
            return;
          }
          onConnection(ws, socket, result.user, result.role, result.notebookId);
        });
      });
  }

  // The socket listeners are shared by every connection (they find their peer on the socket), so an idle connection
  // costs no closures of its own.
  function onSocketError(this: PeerSocket, e: Error): void {
    // ws reports oversized or invalid frames here and closes the socket itself (1009 / 1002).
    metrics.count(metrics.closedTotal, (e as { code?: string }).code ?? 'socket error');
  }

  function onPong(this: PeerSocket): void {
    const peer = this[PEER];
    if (peer) peer.alive = true;
  }

  function onMessage(this: PeerSocket, data: Buffer | ArrayBuffer | Buffer[]): void {
    const peer = this[PEER];
    const room = peer?.room;
    if (!peer || !room || this.readyState !== WebSocket.OPEN) return;
    metrics.messagesTotal++;
    if (!peer.take()) {
      peer.close(CloseCode.RateLimited, 'rate limited');
      return;
    }
    const bytes: Uint8Array = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : data;
    try {
      hub.handle(room, peer, decodeClientMessage(bytes));
    } catch (e) {
      if (e instanceof DocTooLargeError) peer.close(CloseCode.MessageTooBig, 'document too large');
      else if (e instanceof ProtocolError) peer.close(CloseCode.ProtocolError, e.message.slice(0, 100));
      else {
        log.error(`message on ${room.id} failed`, e);
        peer.close(CloseCode.InternalError, 'internal error');
      }
    }
  }

  function onSocketClose(this: PeerSocket): void {
    const peer = this[PEER];
    if (!peer?.room) return;
    peers.delete(peer);
    metrics.connections--;
    hub.leave(peer.room, peer);
  }

  function onConnection(ws: WebSocket, stream: Duplex, user: Identity, role: Role, notebookId: string): void {
    const peer = new SocketPeer(ws, stream, user, role, limits, metrics);
    const socket = ws as PeerSocket;
    socket[PEER] = peer;
    ws.on('error', onSocketError);
    ws.on('pong', onPong);
    try {
      peer.room = hub.join(notebookId, peer);
    } catch (e) {
      const notFound = e instanceof PipebookError && e.code === 'not_found';
      peer.close(
        notFound ? CloseCode.NotFound : CloseCode.InternalError,
        notFound ? 'no such notebook' : 'load failed',
      );
      return;
    }
    peers.add(peer);
    metrics.connections++;
    metrics.connectionsTotal++;
    ws.on('message', onMessage);
    ws.on('close', onSocketClose);
  }

  server.on('upgrade', onUpgrade);
  // One timer for all sockets (not one per socket): dead peers are found within two intervals.
  const pinger = setInterval(() => {
    for (const peer of peers) {
      if (!peer.alive) {
        peer.ws.terminate();
        continue;
      }
      peer.alive = false;
      peer.ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  return {
    get size() {
      return peers.size;
    },
    close() {
      clearInterval(pinger);
      server.off('upgrade', onUpgrade);
      for (const peer of peers) peer.ws.terminate();
      wss.close();
    },
  };
}
