// Which client pods a finished job keeps. Every client of a Succeeded job hears job.finished (ADR 0041)
// and exits by itself, so its pod is left to do that for a grace counted from the job's completionTime;
// a pod still up after it, or any unfinished pod of a Failed job, is deleted (ADR 0012, amendment 2).
import type { Lifecycle } from "../status/lifecycle.js";
import type { ClientPlan } from "./restart-plan.js";

export interface FinishedClientPods {
  /** Names of the client pods to keep. */
  keep: string[];
  /** When pods are kept only for the grace: ms until it is over (the reconcile's requeue). */
  recheckAfterMs?: number;
}

const finished = (p: ClientPlan): boolean => ["Succeeded", "Failed"].includes(p.pod?.status?.phase ?? "");

/** Ms left of a Succeeded job's grace for its clients to exit at `now`; 0 when over or not Succeeded. */
export function exitGraceLeft(lifecycle: Lifecycle, graceMs: number, now: Date | undefined): number {
  if (lifecycle.terminal?.phase !== "Succeeded" || now === undefined) return 0;
  const end = Date.parse(lifecycle.completionTime ?? "");
  if (Number.isNaN(end)) return 0;
  return Math.max(0, Math.min(graceMs, end + graceMs - now.getTime()));
}

/** The client pods a finished job keeps: finished ones (for their logs), unfinished ones during the grace. */
export function finishedClientPods(
  plans: readonly ClientPlan[],
  lifecycle: Lifecycle,
  graceMs: number,
  now: Date | undefined,
): FinishedClientPods {
  const left = exitGraceLeft(lifecycle, graceMs, now);
  const kept = plans.filter((p) => p.pod && (finished(p) || left > 0));
  const keep = kept.map((p) => p.pod!.metadata!.name!);
  const waiting = kept.some((p) => !finished(p));
  return waiting ? { keep, recheckAfterMs: left } : { keep };
}
