// Which client pods a finished job keeps. Every client of a job whose server announced the end
// (job.finished, job.failed; ADR 0041) exits by itself, so its pod is left to do that for a grace counted
// from the job's completionTime; a pod still up after it, or any unfinished pod of a job the operator
// failed (which its clients are not told of), is deleted (ADR 0012, amendments 2 and 3). A job whose
// failure reason was lost leaves the grace too: its clients may have been told (ADR 0023, amendment 10).
import type { V1Pod } from "@kubernetes/client-node";
import { clientsNotice, type Lifecycle } from "../status/lifecycle.js";
import { podAttempt, type ClientPlan } from "./restart-plan.js";

export interface FinishedClientPods {
  /** Names of the client pods to keep. */
  keep: string[];
  /** When pods are kept only for the grace: ms until it is over (the reconcile's requeue). */
  recheckAfterMs?: number;
}

const exited = (pod: V1Pod | undefined): boolean =>
  ["Succeeded", "Failed"].includes(pod?.status?.phase ?? "");

/**
 * Ms left at `now` of a finished job's grace for its clients to exit; 0 when over, or when its clients
 * were not told of the end (the operator failed the job) and so have nothing to exit on. Where that
 * is not known (the failure's reason was lost), the grace stands: a told client still exiting keeps
 * its pod, whose phase is then the one record of how it ended; an untold one goes when the grace does.
 */
export function exitGraceLeft(lifecycle: Lifecycle, graceMs: number, now: Date | undefined): number {
  const terminal = lifecycle.terminal;
  if (terminal === undefined || clientsNotice(terminal) === "not-told" || now === undefined) return 0;
  const end = Date.parse(lifecycle.completionTime ?? "");
  if (Number.isNaN(end)) return 0;
  return Math.max(0, Math.min(graceMs, end + graceMs - now.getTime()));
}

/**
 * The client pods a finished job keeps: finished ones (for their logs; also a Failed one whose backoff
 * ran out, which a finished job does not replace), unfinished ones during the grace.
 */
export function finishedClientPods(
  plans: readonly ClientPlan[],
  lifecycle: Lifecycle,
  graceMs: number,
  now: Date | undefined,
): FinishedClientPods {
  const left = exitGraceLeft(lifecycle, graceMs, now);
  const kept = plans
    .flatMap((p) => [p.replaces, p.pod])
    .filter((pod): pod is V1Pod => pod !== undefined && (exited(pod) || left > 0));
  const keep = kept.map((pod) => pod.metadata!.name!);
  const waiting = kept.some((pod) => !exited(pod));
  return waiting ? { keep, recheckAfterMs: left } : { keep };
}

/**
 * A client's plan on a finished job, which starts no replacement: a plan that would replace a Failed
 * pod (its restart backoff over) stands for that pod, kept for its logs, as it did during the backoff.
 * So the status says Failed however late the operator first sees the pod fail; the replacing plan has
 * no pod, which read as a pod deleted before it exited (Unknown).
 */
export function finishedClientPlan(plan: ClientPlan): ClientPlan {
  if (plan.pod !== undefined || plan.replaces === undefined) return plan;
  return { index: plan.index, attempt: podAttempt(plan.replaces), state: "waiting", pod: plan.replaces };
}
