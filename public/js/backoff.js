// Reconnection delays: exponential backoff with jitter. Pure.
//
// attempt 0 waits about baseMs, each further attempt doubles the nominal
// delay up to capMs, then the delay is spread by ±jitter (0.5 = ±50%) so
// that every page behind a restarting bridge does not come back in the same
// millisecond. With the defaults: ~1 s, 2 s, 4 s, 8 s, 16 s, then 30 s,
// each somewhere between half and one and a half times that.

export const DEFAULT_BACKOFF = Object.freeze({ baseMs: 1000, capMs: 30000, jitter: 0.5 });

/**
 * Delay in milliseconds (an integer ≥ 0) before reconnection attempt
 * `attempt` (0 for the first retry after a failure). `random` returns a
 * number in [0, 1) (Math.random by default; tests pass their own).
 */
export function backoffDelay(attempt, options = DEFAULT_BACKOFF, random = Math.random) {
  const { baseMs, capMs, jitter } = { ...DEFAULT_BACKOFF, ...options };
  const n = Math.max(0, Math.floor(Number(attempt) || 0));
  // 2 ** n overflows to Infinity long after it passed the cap; min() handles it.
  const nominal = Math.min(capMs, baseMs * 2 ** n);
  const spread = 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.round(nominal * spread));
}
