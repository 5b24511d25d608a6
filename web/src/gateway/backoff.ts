export interface BackoffOptions {
  /** Delay ceiling of the first retry, ms (default 500). */
  baseMs?: number;
  /** Largest delay, ms (default 30 000). */
  capMs?: number;
}

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

/** The upper bound of the delay before retry number `attempt` (0-based): min(cap, base · 2^attempt). */
export function backoffCeiling(attempt: number, { baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS }: BackoffOptions = {}): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity for large n, which min() turns into the cap.
  return Math.min(capMs, baseMs * 2 ** n);
}

/**
 * Exponential backoff with full jitter: a uniformly random delay in
 * [0, min(cap, base · 2^attempt)). `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(attempt, options));
}
