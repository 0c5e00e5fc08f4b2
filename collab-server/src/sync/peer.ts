// A peer is one client connection as the document hub sees it: who it is, what it may do, and how to reach it.
// The socket layer implements it over `ws`; the hub never touches sockets.
import type { AuthedUser, Role } from '../http/features.ts';

export interface Peer {
  readonly user: AuthedUser & { service?: boolean };
  /** Mutable: an owner may change it while the peer is connected. */
  role: Role;
  /** Awareness client ids this peer controls, removed when it leaves. */
  readonly awarenessIds: Set<number>;
  send(message: Uint8Array): void;
  close(code: number, reason: string): void;
}
