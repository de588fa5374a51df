// Polling until a condition holds: the one way tests wait for controllers and the API server.
import { setTimeout as sleep } from "node:timers/promises";
import { WaitTimeoutError } from "./errors.js";

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** Names the awaited condition in the timeout error. */
  description?: string;
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it returns a value other than undefined, null or false, and returns that value.
 * A throw counts as "not yet"; on timeout the last throw (or last value) is the error's cause.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const cause = last instanceof Error ? last : new Error(`last value: ${JSON.stringify(last)}`);
      throw new WaitTimeoutError(opts.description ?? "a condition", timeoutMs, { cause });
    }
    await sleep(intervalMs, undefined, opts.signal ? { signal: opts.signal } : undefined);
  }
}
