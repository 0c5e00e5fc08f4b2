// HTTP routes under /api/notebooks/:id/git/... (documented in docs/git.md). Thin: check the role, call GitService,
// answer JSON (or a zip). Viewers read; editors snapshot, restore, branch, merge, push and pull; owners set remotes.
import { NotebookId, PipebookError } from '@pipebook/shared';
import express, { type Request, type Router } from 'express';
import type { FeatureContext } from '../http/features.ts';
import { AutoSnapshots } from './auto-snapshot.ts';
import { snakeName } from './names.ts';
import { GitService, LIVE } from './service.ts';
import { zipFiles } from './zip.ts';

function notebookParam(req: Request): string {
  const id = String(req.params.id);
  if (!NotebookId.isValid(id)) throw new PipebookError('not_found', `No notebook ${id}`);
  return id;
}

function query(req: Request, key: string): string | undefined {
  const v = req.query[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function body(req: Request): Record<string, unknown> {
  return req.body && typeof req.body === 'object' && !Array.isArray(req.body)
    ? (req.body as Record<string, unknown>)
    : {};
}

export function gitRoutes(
  ctx: FeatureContext,
  service = new GitService(ctx),
  auto = new AutoSnapshots(ctx, service),
): Router {
  const r = express.Router();
  const base = '/notebooks/:id/git';
  // Notebooks that had automatic snapshots on get them again after a restart.
  void auto.resume().catch(() => {});

  r.get(`${base}/status`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    res.json(await service.status(id));
  });

  r.get(`${base}/history`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    const limit = query(req, 'limit');
    res.json({
      snapshots: await service.history(id, { rev: query(req, 'rev'), limit: limit ? Number(limit) || 100 : 100 }),
    });
  });

  r.get(`${base}/snapshots/:rev`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    res.json({ state: await service.stateAt(id, String(req.params.rev)) });
  });

  r.get(`${base}/diff`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    const from = query(req, 'from');
    if (!from) throw new PipebookError('bad_request', 'Give ?from=<snapshot> (and optionally &to=<snapshot>|live).');
    res.json(await service.diff(id, from, query(req, 'to') ?? LIVE));
  });

  r.post(`${base}/snapshot`, async (req, res) => {
    const id = notebookParam(req);
    const user = await ctx.authorize(req, id, 'editor');
    const result = await service.snapshot(id, user, body(req).message);
    res.status(result.created ? 201 : 200).json(result);
  });

  r.post(`${base}/restore`, async (req, res) => {
    const id = notebookParam(req);
    const user = await ctx.authorize(req, id, 'editor');
    const rev = body(req).rev;
    if (typeof rev !== 'string') throw new PipebookError('bad_request', 'Give the snapshot to restore: { rev }.');
    res.json(await service.restore(id, user, rev));
  });

  r.post(`${base}/restore/undo`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'editor');
    const restoreId = body(req).restoreId;
    res.json(service.undoRestore(id, typeof restoreId === 'string' ? restoreId : undefined));
  });

  r.get(`${base}/branches`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    res.json({ branches: await service.branches(id) });
  });

  r.post(`${base}/branches`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'editor');
    res.status(201).json(await service.createBranch(id, body(req).name, body(req).from));
  });

  r.post(`${base}/branches/switch`, async (req, res) => {
    const id = notebookParam(req);
    const user = await ctx.authorize(req, id, 'editor');
    res.json(await service.switchBranch(id, user, body(req).name, body(req).apply !== false));
  });

  r.post(`${base}/merge`, async (req, res) => {
    const id = notebookParam(req);
    const user = await ctx.authorize(req, id, 'editor');
    res.json(await service.merge(id, user, body(req)));
  });

  r.get(`${base}/export`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    const { files, title } = await service.exportProject(id, query(req, 'rev') ?? LIVE);
    if (query(req, 'format') === 'json') {
      res.json({ files: [...files].map(([path, content]) => ({ path, content })) });
      return;
    }
    const name = snakeName(title);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="${name}.zip"`);
    res.send(zipFiles(files, name));
  });

  r.post(`${base}/import`, async (req, res) => {
    const id = notebookParam(req);
    const user = await ctx.authorize(req, id, 'editor');
    res.json(await service.importProject(id, user, body(req).files));
  });

  r.get(`${base}/auto`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'viewer');
    res.json({ minutes: auto.minutes(id) });
  });

  r.put(`${base}/auto`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'editor');
    res.json(await auto.configure(id, body(req).minutes));
  });

  r.get(`${base}/remote`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'editor');
    res.json({ remote: await service.getRemote(id) });
  });

  r.put(`${base}/remote`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'owner');
    res.json({ remote: await service.setRemote(id, req.body) });
  });

  r.delete(`${base}/remote`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'owner');
    res.json({ remote: await service.setRemote(id, null) });
  });

  r.post(`${base}/push`, async (req, res) => {
    const id = notebookParam(req);
    await ctx.authorize(req, id, 'editor');
    res.json(await service.push(id));
  });

  r.post(`${base}/pull`, async (req, res) => {
    const id = notebookParam(req);
    const user = await ctx.authorize(req, id, 'editor');
    res.json(await service.pull(id, user, body(req)));
  });

  return r;
}
