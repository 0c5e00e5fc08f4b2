// The run queue: cells ready to execute wait here for a slot. Slots are shared by all notebooks; the next slot goes
// to the waiting notebook served least recently, and one notebook never holds every slot (one is always left for
// the others), so one person's long run does not keep another notebook's short one from starting.
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
  /** When each notebook with work was last given a slot (a counter, not a clock). */
  private readonly lastServed = new Map<string, number>();
  private tick = 0;
  private active = 0;

  constructor(
    private readonly slots: number,
    /** Slots one notebook may hold at once (default: all but one). */
    private readonly perNotebook = Math.max(1, slots - 1),
  ) {}

  enqueue(job: QueuedJob): void {
    const list = this.waiting.get(job.notebookId);
    if (list) list.push(job);
    else this.waiting.set(job.notebookId, [job]);
    this.pump();
  }

  /** Removes a run's waiting jobs (calling their drop()). */
  cancelRun(runId: string): number {
    let n = 0;
    for (const [nb, list] of [...this.waiting]) {
      const keep = list.filter((j) => j.runId !== runId);
      for (const j of list) {
        if (j.runId === runId) {
          n++;
          j.drop();
        }
      }
      if (keep.length) this.waiting.set(nb, keep);
      else this.waiting.delete(nb);
    }
    return n;
  }

  stats(): { active: number; waiting: number } {
    let waiting = 0;
    for (const l of this.waiting.values()) waiting += l.length;
    return { active: this.active, waiting };
  }

  private pick(): QueuedJob | undefined {
    let best: string | undefined;
    for (const nb of this.waiting.keys()) {
      if ((this.running.get(nb) ?? 0) >= this.perNotebook) continue;
      if (best === undefined || (this.lastServed.get(nb) ?? 0) < (this.lastServed.get(best) ?? 0)) best = nb;
    }
    if (best === undefined) return undefined;
    const list = this.waiting.get(best)!;
    const job = list.shift()!;
    if (list.length === 0) this.waiting.delete(best);
    this.lastServed.set(best, ++this.tick);
    return job;
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
          else {
            this.running.delete(job.notebookId);
            if (!this.waiting.has(job.notebookId)) this.lastServed.delete(job.notebookId);
          }
          this.pump();
        });
    }
  }
}
