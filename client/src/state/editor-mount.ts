// Mounting hundreds of CodeMirror editors at once would hold the first paint for seconds. Cells first render their
// text as plain preformatted blocks (same font, same height), then editors are mounted in small time slices, cells
// near the viewport first; a cell the user clicks or focuses is mounted at once.

export interface MountQueue {
  /** Registers a cell's mount function; returns an unregister function. */
  add(id: string, mount: () => void, priority?: () => number): () => void;
  /** Mounts one cell now (focus, click). */
  now(id: string): void;
  pending(): number;
  onIdle(cb: () => void): void;
}

export function createMountQueue(
  sliceMs = 12,
  schedule: (cb: () => void) => void = (cb) => setTimeout(cb, 0),
): MountQueue {
  const waiting = new Map<string, { mount: () => void; priority?: () => number }>();
  const idle: Array<() => void> = [];
  let scheduled = false;
  const flushIdle = () => {
    if (waiting.size > 0) return;
    for (const cb of idle.splice(0)) cb();
  };
  const pump = () => {
    scheduled = false;
    const start = performance.now();
    const entries = [...waiting.entries()];
    if (entries.some(([, e]) => e.priority))
      entries.sort((a, b) => (a[1].priority?.() ?? 0) - (b[1].priority?.() ?? 0));
    for (const [id, e] of entries) {
      waiting.delete(id);
      e.mount();
      if (performance.now() - start > sliceMs) break;
    }
    if (waiting.size > 0) kick();
    else flushIdle();
  };
  const kick = () => {
    if (scheduled) return;
    scheduled = true;
    schedule(pump);
  };
  return {
    add(id, mount, priority) {
      waiting.set(id, { mount, priority });
      kick();
      return () => {
        waiting.delete(id);
        if (waiting.size === 0) queueMicrotask(flushIdle);
      };
    },
    now(id) {
      const e = waiting.get(id);
      if (!e) return;
      waiting.delete(id);
      e.mount();
      if (waiting.size === 0) flushIdle();
    },
    pending: () => waiting.size,
    onIdle(cb) {
      idle.push(cb);
      if (waiting.size === 0) queueMicrotask(flushIdle);
    },
  };
}
