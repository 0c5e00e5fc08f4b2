// The notebook API under /api: registry, import/export, sharing and the access check the kernel relies on.
// Handlers are thin: parse, authorize, call the store or the hub, answer.
import {
  createOrigin,
  demoNotebookFile,
  docFromFile,
  emptyNotebookFile,
  exportNotebook,
  NotebookId,
  PipebookError,
  parseNotebookFile,
  setTitle,
} from '@pipebook/shared';
import express, { type Request, type Router } from 'express';
import * as Y from 'yjs';
import { z } from 'zod';
import type { Access, Identity } from '../auth/access.ts';
import type { CollabStore, NotebookRecord } from '../store/store.ts';
import type { DocHub } from '../sync/hub.ts';
import type { Role } from './features.ts';

export interface NotebookApiDeps {
  store: CollabStore;
  hub: DocHub;
  access: Access;
}

const titleSchema = z.string().trim().min(1).max(200);
const createSchema = z.object({
  title: titleSchema.optional(),
  template: z.enum(['empty', 'demo']).optional(),
  file: z.unknown().optional(),
});
const renameSchema = z.object({ title: titleSchema });
const roleSchema = z.enum(['owner', 'editor', 'viewer']);
const memberSchema = z.object({ role: roleSchema, name: z.string().trim().min(1).max(200).optional() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new PipebookError('bad_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

function notebookParam(req: Request): string {
  const id = String(req.params.id);
  if (!NotebookId.isValid(id)) throw new PipebookError('not_found', `No notebook ${id}`);
  return id;
}

export function notebookView(n: NotebookRecord, role: Role | undefined, ownerName?: string) {
  return {
    id: n.id,
    title: n.title,
    role,
    createdAt: new Date(n.createdAt).toISOString(),
    updatedAt: new Date(n.updatedAt).toISOString(),
    owner: { id: n.ownerId, name: ownerName ?? n.ownerId },
  };
}

/** Creates a notebook from a validated file, owned by `owner`. */
export function createNotebook(
  store: CollabStore,
  owner: Identity,
  file: ReturnType<typeof parseNotebookFile>,
): NotebookRecord {
  const doc = docFromFile(file);
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  const now = Date.now();
  const record: NotebookRecord = {
    id: NotebookId.create(),
    title: file.title,
    ownerId: owner.id,
    createdAt: now,
    updatedAt: now,
  };
  store.createNotebook(record, { id: owner.id, name: owner.name }, state);
  return record;
}

export function notebookRoutes(deps: NotebookApiDeps): Router {
  const { store, hub, access } = deps;
  const r = express.Router();
  const who = (req: Request) => access.identifyRequest(req);
  const ownerName = (n: NotebookRecord) => store.userName(n.ownerId);

  r.get('/me', async (req, res) => {
    const user = await who(req);
    res.json({ id: user.id, name: user.name, ...(user.service ? { service: true } : {}), authMode: access.mode });
  });

  r.get('/notebooks', async (req, res) => {
    const user = await who(req);
    const everything = access.mode === 'local' || user.service;
    const rows = store.listNotebooks(everything ? null : user.id);
    res.json(rows.map((n) => notebookView(n, n.role ?? access.roleOf(user, n.id), ownerName(n))));
  });

  r.post('/notebooks', async (req, res) => {
    const user = await who(req);
    const body = parse(createSchema, req.body);
    let file =
      body.file !== undefined
        ? parseNotebookFile(body.file)
        : body.template === 'demo'
          ? demoNotebookFile(body.title)
          : emptyNotebookFile(body.title);
    if (body.title && body.file !== undefined) file = { ...file, title: body.title };
    const record = createNotebook(store, user, file);
    res.status(201).json(notebookView(record, 'owner', user.name));
  });

  r.get('/notebooks/:id', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    const role = access.require(user, id, 'viewer');
    res.json(notebookView(store.getNotebook(id) as NotebookRecord, role, ownerName(store.getNotebook(id)!)));
  });

  r.patch('/notebooks/:id', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    const role = access.require(user, id, 'editor');
    const { title } = parse(renameSchema, req.body);
    // The registry and the document's own title change together; collaborators see the new title at once.
    const held = hub.hold(id);
    try {
      setTitle(held.doc, title, createOrigin('server', user.id));
    } finally {
      held.release();
    }
    store.renameNotebook(id, title, Date.now());
    const n = store.getNotebook(id) as NotebookRecord;
    res.json(notebookView(n, role, ownerName(n)));
  });

  r.delete('/notebooks/:id', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    access.require(user, id, 'owner');
    hub.dropNotebook(id);
    store.deleteNotebook(id);
    res.status(204).end();
  });

  r.get('/notebooks/:id/export', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    access.require(user, id, 'viewer');
    const held = hub.hold(id);
    let file: ReturnType<typeof exportNotebook>;
    try {
      file = exportNotebook(held.doc);
    } finally {
      held.release();
    }
    const safe = file.title.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-|-$/g, '') || 'notebook';
    res.setHeader('Content-Disposition', `attachment; filename="${safe}.pipebook.json"`);
    res.json(file);
  });

  r.get('/notebooks/:id/access', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    const role = access.require(user, id, 'viewer');
    res.json({ role, user: { id: user.id, name: user.name } });
  });

  r.get('/notebooks/:id/members', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    access.require(user, id, 'owner');
    res.json(store.members(id).map((m) => ({ userId: m.userId, name: m.name, role: m.role })));
  });

  r.put('/notebooks/:id/members/:userId', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    access.require(user, id, 'owner');
    const userId = String(req.params.userId);
    if (userId.length === 0 || userId.length > 200) throw new PipebookError('bad_request', 'Bad user id');
    const body = parse(memberSchema, req.body);
    const current = store.roleOf(id, userId);
    if (current === 'owner' && body.role !== 'owner') ensureAnotherOwner(store, id, userId);
    store.setMember(id, { userId, role: body.role, name: body.name }, Date.now());
    hub.setRole(id, userId, body.role);
    res.json({ userId, name: store.userName(userId) ?? userId, role: body.role });
  });

  r.delete('/notebooks/:id/members/:userId', async (req, res) => {
    const id = notebookParam(req);
    const user = await who(req);
    access.require(user, id, 'owner');
    const userId = String(req.params.userId);
    const current = store.roleOf(id, userId);
    if (!current) throw new PipebookError('not_found', `${userId} is not a member`);
    if (current === 'owner') ensureAnotherOwner(store, id, userId);
    store.removeMember(id, userId);
    hub.setRole(id, userId, undefined);
    res.status(204).end();
  });

  return r;
}

function ensureAnotherOwner(store: CollabStore, notebookId: string, leaving: string): void {
  const owners = store.members(notebookId).filter((m) => m.role === 'owner' && m.userId !== leaving);
  if (owners.length === 0) throw new PipebookError('conflict', 'A notebook needs at least one owner');
}
