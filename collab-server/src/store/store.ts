// What the collab server needs from storage: the notebook registry with roles, and each document as a snapshot plus
// an append-only log of updates. SQLite implements it (sqlite-store.ts); tests may swap in a failing one.
import type { Role } from '../http/features.ts';

export interface NotebookRecord {
  id: string;
  title: string;
  ownerId: string;
  createdAt: number;
  updatedAt: number;
}

export interface MemberRecord {
  userId: string;
  name: string;
  role: Role;
  addedAt: number;
}

export interface StoredDoc {
  snapshot: Uint8Array | null;
  updates: Uint8Array[];
}

export interface DocAppend {
  notebookId: string;
  update: Uint8Array;
}

export interface DocStats {
  snapshotBytes: number;
  logBytes: number;
  logCount: number;
}

export interface NotebookTouch {
  notebookId: string;
  /** New title when the document's own title changed. */
  title?: string;
  at: number;
}

export interface CollabStore {
  countNotebooks(): number;
  createNotebook(n: NotebookRecord, owner: { id: string; name: string }, state: Uint8Array): void;
  getNotebook(id: string): NotebookRecord | undefined;
  /** Notebooks the user is a member of, with their role; `null` lists all (local user, service). */
  listNotebooks(userId: string | null): Array<NotebookRecord & { role?: Role }>;
  renameNotebook(id: string, title: string, at: number): void;
  deleteNotebook(id: string): void;
  roleOf(notebookId: string, userId: string): Role | undefined;
  members(notebookId: string): MemberRecord[];
  setMember(notebookId: string, member: { userId: string; name?: string; role: Role }, at: number): void;
  removeMember(notebookId: string, userId: string): void;
  rememberUser(id: string, name: string): void;
  userName(id: string): string | undefined;

  loadDoc(notebookId: string): StoredDoc;
  /** Appends every update and touches notebooks in one transaction (the group commit). */
  append(batch: DocAppend[], touches: NotebookTouch[]): void;
  /** Replaces the document's snapshot with `state` and drops its log. */
  compact(notebookId: string, state: Uint8Array): void;
  docStats(notebookId: string): DocStats;
  /**
   * True when commits reach the disk only through sync(): the hub then waits for sync() before it tells anyone of a
   * commit (durability 'full').
   */
  readonly syncBeforeBroadcast: boolean;
  /** Makes every commit so far durable on disk; concurrent calls share one fsync (group commit). */
  sync(): Promise<void>;
  close(): void;
}
