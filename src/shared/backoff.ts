// Retry delays for the lease queues. Each queue keeps its own numbers; these only compute them.

/** A delay that doubles after each failed attempt, from `firstMs` after the first, up to `capMs`. */
export interface ExponentialBackoff {
  firstMs: number;
  capMs: number;
}

/** The delay after the `attempt`-th attempt (1 for the first) failed. */
export function exponentialDelayMs(attempt: number, backoff: ExponentialBackoff): number {
  return Math.min(backoff.capMs, backoff.firstMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Spreads retries that failed together (a receiver or Discord coming back up) so they do not all
 * come due at once: a delay becomes `floor` to `floor + spread` times itself.
 */
export interface Jitter {
  floor: number;
  spread: number;
}

/** `delayMs` spread by `jitter`, `random` in [0, 1] picking where; whole milliseconds. */
export function withJitter(delayMs: number, jitter: Jitter, random: number): number {
  return Math.round(delayMs * (jitter.floor + jitter.spread * Math.min(Math.max(random, 0), 1)));
}
