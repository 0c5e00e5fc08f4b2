// The run queue: cells ready to execute wait here for a slot. Slots are shared by all notebooks, handed out
// round-robin between notebooks, and one notebook never holds every slot (one is always left for the others), so
// one person's long run does not keep another notebook's short one from starting.
export interface QueuedJob {
  notebookId: string;
  runId: string;
  /** Runs the job; the slot is freed when the promise settles. */
  start: () => Promise<void>;
  /** Called instead of start when the job is removed before it started (its run was cancelled). */
  drop: () => void;
}

export class RunQueue {
  private readonly waiting = new Map<string, QueuedJob[]>();
  private readonly running = new Map<string, number>();
  private ring: string[] = [];
  private next = 0;
  private active = 0;

  constructor(
    private readonly slots: number,
    /** Slots one notebook may hold at once (default: all but one). */
    private readonly perNotebook = Math.max(1, slots - 1),
  ) {}

  enqueue(job: QueuedJob): void {
    let list = this.waiting.get(job.notebookId);
    if (!list) {
      list = [];
      this.waiting.set(job.notebookId, list);
      this.ring.push(job.notebookId);
    }
    list.push(job);
    this.pump();
  }

  /** Removes a run's waiting jobs (calling their drop()). */
  cancelRun(runId: string): number {
    let n = 0;
    for (const [nb, list] of this.waiting) {
      const keep: QueuedJob[] = [];
      for (const j of list) {
        if (j.runId === runId) {
          n++;
          j.drop();
        } else keep.push(j);
      }
      if (keep.length) this.waiting.set(nb, keep);
      else this.forget(nb);
    }
    return n;
  }

  stats(): { active: number; waiting: number } {
    let waiting = 0;
    for (const l of this.waiting.values()) waiting += l.length;
    return { active: this.active, waiting };
  }

  private forget(nb: string): void {
    this.waiting.delete(nb);
    const i = this.ring.indexOf(nb);
    if (i >= 0) {
      this.ring.splice(i, 1);
      if (this.next > i) this.next--;
    }
  }

  private pick(): QueuedJob | undefined {
    const n = this.ring.length;
    for (let k = 0; k < n; k++) {
      const idx = (this.next + k) % n;
      const nb = this.ring[idx];
      const busy = this.running.get(nb) ?? 0;
      if (busy >= this.perNotebook) continue;
      const list = this.waiting.get(nb)!;
      const job = list.shift()!;
      if (list.length === 0) this.forget(nb);
      else this.next = (idx + 1) % this.ring.length;
      if (this.ring.length && this.next >= this.ring.length) this.next = 0;
      return job;
    }
    return undefined;
  }

  private pump(): void {
    while (this.active < this.slots) {
      const job = this.pick();
      if (!job) return;
      this.active++;
      this.running.set(job.notebookId, (this.running.get(job.notebookId) ?? 0) + 1);
      Promise.resolve()
        .then(job.start)
        .catch(() => {})
        .finally(() => {
          this.active--;
          const left = (this.running.get(job.notebookId) ?? 1) - 1;
          if (left > 0) this.running.set(job.notebookId, left);
          else this.running.delete(job.notebookId);
          this.pump();
        });
    }
  }
}
