// How the scale-out Redis connections (the collab server's document bus, the kernel's run bus) behave while Redis is
// away or restarting. C4 and K4 (docs/deployment.md) promise recovery within 2 s / 500 ms of Redis being back, and
// recovery only starts once a process's connections are ready again, so no wait on the way back may grow with the
// length of the outage or with the size of the data Redis reloads:
// - ioredis waits `retryStrategy(attempt)` before each reconnect; a growing backoff means a long outage is followed
//   by a long wait after Redis is already back.
// - A connection made while a restarted Redis is still loading its AOF gets `loading:1` from the ready check, and
//   ioredis then waits `loading_eta_seconds` (at least 1 s, up to `maxLoadingRetryTime`, 10 s by default) before
//   asking again, even when the load finishes a few milliseconds later.

/** Longest wait between two reconnect attempts, however long Redis has been away. */
export const RECONNECT_MAX_DELAY_MS = 200;

/** Longest wait before asking a Redis that is loading its data set again whether it is ready. */
export const LOADING_RECHECK_MS = 100;

/**
 * ioredis `retryStrategy`: 50, 100, 150 ms, then one attempt every RECONNECT_MAX_DELAY_MS for as long as the outage
 * lasts (it always returns a number: returning anything else would stop ioredis from reconnecting at all). A refused
 * connection to a dead Redis costs next to nothing, so a few attempts a second per connection are cheap.
 */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * Math.max(1, attempt), RECONNECT_MAX_DELAY_MS);
}

/** ioredis options of every scale-out connection (a plain object: this package does not depend on ioredis). */
export function redisClientOptions(connectionName: string) {
  return {
    // Fail fast while Redis is away: the hub never waits for Redis, and recovery re-reads the store.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelayMs,
    maxLoadingRetryTime: LOADING_RECHECK_MS,
    connectionName,
  };
}
