// Automatic snapshots: for notebooks that opt in (PUT /git/auto { minutes }), every N minutes a notebook that changed
// since the last tick gets a snapshot authored by "Pipebook (automatic)". The setting is kept in
// PIPEBOOK_HOME/git/<notebookId>.auto.json and picked up again when the server starts. While enabled the notebook's
// document stays loaded, since activity is observed on it.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NotebookId, PipebookError } from '@pipebook/shared';
import type { DocAccess, GitService } from './service.ts';

export const AUTO_USER = { id: 'pipebook-auto', name: 'Pipebook (automatic)' };
export const MAX_AUTO_MINUTES = 24 * 60;
/** The lease an automatic snapshot runs under when several instances serve the notebook (Redis key). */
export const autoLeaseKey = (notebookId: string) => `pipebook:git:{${notebookId}}:auto-snapshot-lease`;
/** Longer than any snapshot takes; an instance that dies mid-snapshot blocks the others at most this long. */
const AUTO_LEASE_MS = 5 * 60_000;

interface Watch {
  minutes: number;
  dirty: boolean;
  release: () => void;
  stop: () => void;
  timer?: NodeJS.Timeout;
}

function settingsFile(home: string, notebookId: string): string {
  if (!NotebookId.isValid(notebookId)) throw new PipebookError('bad_request', 'Invalid notebook id.');
  return join(resolve(home), 'git', `${notebookId}.auto.json`);
}

export class AutoSnapshots {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly docs: DocAccess,
    private readonly service: GitService,
    /** Tests drive ticks by hand; the server uses real timers. */
    private readonly useTimers = true,
  ) {}

  minutes(notebookId: string): number {
    return this.watches.get(notebookId)?.minutes ?? 0;
  }

  /** Turns automatic snapshots on (minutes > 0) or off (0) and remembers the choice. */
  async configure(notebookId: string, minutes: unknown): Promise<{ minutes: number }> {
    if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 0 || minutes > MAX_AUTO_MINUTES) {
      throw new PipebookError('bad_request', `minutes must be a whole number from 0 (off) to ${MAX_AUTO_MINUTES}.`);
    }
    const file = settingsFile(this.docs.home, notebookId);
    if (minutes === 0) {
      this.stop(notebookId);
      await rm(file, { force: true });
      return { minutes: 0 };
    }
    await this.start(notebookId, minutes);
    await mkdir(join(resolve(this.docs.home), 'git'), { recursive: true });
    await writeFile(file, `${JSON.stringify({ minutes })}\n`);
    return { minutes };
  }

  /** Re-enables the notebooks that had automatic snapshots on (called once at server start). */
  async resume(): Promise<string[]> {
    const dir = join(resolve(this.docs.home), 'git');
    const names = await readdir(dir).catch(() => [] as string[]);
    const resumed: string[] = [];
    for (const name of names) {
      const m = /^([A-Za-z0-9_-]{1,64})\.auto\.json$/.exec(name);
      if (!m) continue;
      try {
        const { minutes } = JSON.parse(await readFile(join(dir, name), 'utf8')) as { minutes?: unknown };
        if (typeof minutes === 'number' && minutes > 0 && minutes <= MAX_AUTO_MINUTES) {
          await this.start(m[1], minutes);
          resumed.push(m[1]);
        }
      } catch {
        // A notebook that no longer exists or a damaged file: leave it off.
      }
    }
    return resumed;
  }

  private async start(notebookId: string, minutes: number): Promise<void> {
    const existing = this.watches.get(notebookId);
    if (existing) {
      existing.minutes = minutes;
      this.schedule(notebookId, existing);
      return;
    }
    const { doc, release } = await this.docs.openDoc(notebookId);
    const onUpdate = () => {
      const w = this.watches.get(notebookId);
      if (w) w.dirty = true;
    };
    doc.on('update', onUpdate);
    const watch: Watch = { minutes, dirty: false, release, stop: () => doc.off('update', onUpdate) };
    this.watches.set(notebookId, watch);
    this.schedule(notebookId, watch);
  }

  private schedule(notebookId: string, watch: Watch): void {
    if (watch.timer) clearInterval(watch.timer);
    if (!this.useTimers) return;
    watch.timer = setInterval(() => {
      void this.tick(notebookId).catch(() => {
        // Next tick retries; a failing snapshot must not stop the server.
      });
    }, watch.minutes * 60_000);
    watch.timer.unref();
  }

  /** One interval elapsed: snapshot if anything changed since the last tick. Returns the commit, if one was made. */
  async tick(notebookId: string): Promise<string | undefined> {
    const w = this.watches.get(notebookId);
    if (!w?.dirty) return undefined;
    w.dirty = false;
    const take = () => this.service.snapshot(notebookId, AUTO_USER, `Automatic snapshot (${w.minutes} min)`);
    if (!this.docs.exclusive) {
      const r = await take();
      return r.created ? r.commit : undefined;
    }
    // Under scale-out every instance holds the notebook and ticks: one at a time commits, and an instance that comes
    // second finds the content already snapshotted (snapshot() creates no commit for unchanged content).
    let commit: string | undefined;
    const ran = await this.docs.exclusive(autoLeaseKey(notebookId), AUTO_LEASE_MS, async () => {
      const r = await take();
      if (r.created) commit = r.commit;
    });
    // Lease held elsewhere or Redis away: try again at the next tick rather than lose the change.
    if (!ran) w.dirty = true;
    return commit;
  }

  private stop(notebookId: string): void {
    const w = this.watches.get(notebookId);
    if (!w) return;
    if (w.timer) clearInterval(w.timer);
    w.stop();
    w.release();
    this.watches.delete(notebookId);
  }

  close(): void {
    for (const id of [...this.watches.keys()]) this.stop(id);
  }
}
