// The event log of one run: every event gets a sequence number, is kept (so a client that connects late or
// reconnects with Last-Event-ID replays what it missed), and goes to live subscribers.
import type { RunEvent } from '@pipebook/shared/protocol/kernel';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type NewRunEvent = DistributiveOmit<RunEvent, 'seq' | 'at' | 'runId'>;

export class RunEventLog {
  private readonly events: RunEvent[] = [];
  private readonly listeners = new Set<(e: RunEvent) => void>();
  private finished = false;

  constructor(readonly runId: string) {}

  emit(e: NewRunEvent): RunEvent {
    const full = { ...e, runId: this.runId, seq: this.events.length + 1, at: Date.now() } as RunEvent;
    this.events.push(full);
    if (full.type === 'run_finished') this.finished = true;
    for (const l of this.listeners) l(full);
    if (this.finished) this.listeners.clear();
    return full;
  }

  /** Events after `seq`, then live ones until the run finishes; returns the unsubscribe function. */
  subscribe(afterSeq: number, listener: (e: RunEvent) => void): () => void {
    for (const e of this.events) if (e.seq > afterSeq) listener(e);
    if (this.finished) return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isFinished(): boolean {
    return this.finished;
  }

  all(): readonly RunEvent[] {
    return this.events;
  }
}
