// The current time as a signal that only ticks while something needs it (a run's elapsed time in its status line),
// so a notebook of idle cells runs no timers.
import { type Accessor, createEffect, createSignal, onCleanup } from 'solid-js';

export function createClock(active: Accessor<boolean>, everyMs = 1000): Accessor<number> {
  const [now, setNow] = createSignal(Date.now());
  createEffect(() => {
    if (!active()) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    onCleanup(() => clearInterval(timer));
  });
  return now;
}
