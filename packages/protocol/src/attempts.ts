// Which run attempt of a job an event belongs to, as a consumer that folds events sees it: the one it
// follows, a newer one (the job started over: reset what was folded), or an older one (a stale event
// of a replaced server: ignore it). Pure, shared by the operator and the CLI (ADR 0036).
import type { ProgressEvent } from "./events.js";

/** The attempts a consumer has seen: the one it follows and those it followed before. */
export interface AttemptView {
  /** The attempt folded so far (undefined: none seen yet, or only events without one). */
  readonly current?: string | undefined;
  /** Attempts replaced by a newer one, oldest first (at most MAX_EARLIER_ATTEMPTS). */
  readonly earlier: readonly string[];
}

/**
 * What `event` means for a consumer at `view`:
 * - "current": fold it (also every event without an attempt: older servers, legacy runs);
 * - "new": a new attempt began: drop what was folded from the earlier one, then fold it;
 * - "stale": it belongs to an attempt already replaced: leave the view as it is.
 */
export type AttemptVerdict = "current" | "new" | "stale";

/** How many replaced attempts a view remembers (a job starts over a handful of times at most). */
export const MAX_EARLIER_ATTEMPTS = 32;

export const NO_ATTEMPTS: AttemptView = { earlier: [] };

/** The verdict on `event` (see AttemptVerdict). */
export function attemptVerdict(view: AttemptView, event: Pick<ProgressEvent, "attempt">): AttemptVerdict {
  const a = event.attempt;
  if (a === undefined || a === view.current) return "current";
  return view.earlier.includes(a) ? "stale" : "new";
}

/** The view after `attempt` replaced the current one. */
export function enterAttempt(view: AttemptView, attempt: string): AttemptView {
  const earlier = view.current === undefined ? [...view.earlier] : [...view.earlier, view.current];
  return { current: attempt, earlier: earlier.slice(-MAX_EARLIER_ATTEMPTS) };
}
