// Spark sessions outlive the kernel's replica of their notebook for a grace period. The replica closes 30 s after the
// last run (PIPEBOOK_DOC_IDLE_MS), but a Spark session takes tens of seconds to start and holds the upstream views a
// person's next run needs: giving it back that soon made every pause for thought cost a cold start. A run in the
// notebook within the grace period keeps the session; after it the session is freed (docs/spark.md).

export interface SessionGrace {
  /** The kernel closed its replica of the notebook: free its sessions after the grace period. */
  closed(notebookId: string): void;
  /** The notebook is in use again: keep its sessions. */
  opened(notebookId: string): void;
  /** Kernel shutdown: forget the pending releases (the engines free every session when they close). */
  close(): void;
  pending(): number;
}

export function createSessionGrace(graceMs: number, release: (notebookId: string) => void): SessionGrace {
  const timers = new Map<string, NodeJS.Timeout>();
  const cancel = (id: string) => {
    const t = timers.get(id);
    if (t) clearTimeout(t);
    timers.delete(id);
  };
  return {
    closed(id) {
      cancel(id);
      if (graceMs <= 0) {
        release(id);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(id);
        release(id);
      }, graceMs);
      timer.unref();
      timers.set(id, timer);
    },
    opened: cancel,
    close() {
      for (const id of [...timers.keys()]) cancel(id);
    },
    pending: () => timers.size,
  };
}
