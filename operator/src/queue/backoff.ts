// Exponential backoff arithmetic shared by the work queue, the client restart policy and NATS retries.

export interface BackoffPolicy {
  /** Delay after the first failure, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
}

/** Delay before attempt `failures` + 1: base · 2^(failures − 1), capped; 0 when nothing failed yet. */
export function backoffDelay(policy: BackoffPolicy, failures: number): number {
  if (failures <= 0) return 0;
  // 2^52 already exceeds any sane cap; clamping the exponent keeps the arithmetic finite.
  const exp = Math.min(failures - 1, 52);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exp);
}
