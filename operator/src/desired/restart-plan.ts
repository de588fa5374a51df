// Which pod each client should have: the current one, or a replacement for a Failed one once its
// backoff has passed. The attempt number lives in the pod's name and annotation, and the delay counts
// from the time the pod failed (from its status), so nothing here reads the wall clock except `now`.
// The job's status keeps the count when the pods are gone (ADR 0012).
import type { V1Pod } from "@kubernetes/client-node";
import type { ClientStatus } from "@sfprompt/api";
import { ANNOTATION_RESTARTS, LABEL_CLIENT_INDEX } from "../names.js";
import { backoffDelay, type BackoffPolicy } from "../queue/backoff.js";

export type RestartPolicy = BackoffPolicy & { limit: number };

export interface ClientPlan {
  index: number;
  /** Attempt of the pod the client should have (its name follows from it). */
  attempt: number;
  /** running: a pod is (or will be) live; waiting: Failed, replaced after waitMs; exhausted: Failed for good. */
  state: "running" | "waiting" | "exhausted";
  /** The observed pod of this attempt, if any. */
  pod?: V1Pod;
  waitMs?: number;
  /** The attempt's pod went away without failing (deleted by hand, evicted): it is made again as it was. */
  recreate?: boolean;
  /**
   * The Failed pod of the attempt before, when its backoff is over: a running job replaces it and then
   * deletes it, a finished job keeps it for its logs (ADR 0012, amendment 3).
   */
  replaces?: V1Pod;
}

/** The restart attempt recorded on a client pod (0 when unmarked). */
export function podAttempt(pod: V1Pod): number {
  const n = Number(pod.metadata?.annotations?.[ANNOTATION_RESTARTS] ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** The client index a pod serves, from its label; undefined for pods that are not clients. */
export function podClientIndex(pod: V1Pod): number | undefined {
  const raw = pod.metadata?.labels?.[LABEL_CLIENT_INDEX];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

function time(v: Date | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** When a Failed pod failed: its containers' finish time, else its Ready condition's change, else creation. */
export function failedAt(pod: V1Pod): number {
  const finished = (pod.status?.containerStatuses ?? [])
    .map((c) => time(c.state?.terminated?.finishedAt))
    .filter((t): t is number => t !== undefined);
  if (finished.length > 0) return Math.max(...finished);
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  return time(ready?.lastTransitionTime) ?? time(pod.metadata?.creationTimestamp) ?? 0;
}

/** What the job's status last said of a client: its restart count, its pod and the pod's phase. */
export type RecordedClient = Pick<ClientStatus, "index" | "phase" | "restarts" | "pod">;

/**
 * The plan when the current attempt's pod is gone (deleted by hand, by a node's eviction, with a
 * suspend): not a failure, so the same attempt is made again, neither reset to 0 nor counted. A pod
 * that had failed before it went counts its failure, as if it had been replaced.
 */
function planWithoutPod(
  index: number,
  recorded: RecordedClient | undefined,
  policy: RestartPolicy,
): ClientPlan {
  const attempt = recorded?.restarts ?? 0;
  if (recorded?.phase !== "Failed")
    // a recorded pod name says the pod was seen, so it went away (not merely not in the cache yet)
    return { index, attempt, state: "running", ...(recorded?.pod ? { recreate: true } : {}) };
  if (attempt >= policy.limit) return { index, attempt, state: "exhausted" };
  return { index, attempt: attempt + 1, state: "running" };
}

/**
 * The plan of client `index` given its observed pods (any attempts) at time `now` (ms) and what the
 * status recorded of it (the restart count outlives the pods).
 */
export function planClient(
  index: number,
  pods: readonly V1Pod[],
  policy: RestartPolicy,
  now: number,
  recorded?: RecordedClient,
): ClientPlan {
  const current = [...pods].sort((a, b) => podAttempt(b) - podAttempt(a))[0];
  if (!current || podAttempt(current) < (recorded?.restarts ?? 0))
    return planWithoutPod(index, recorded, policy);
  const attempt = podAttempt(current);
  if (current.status?.phase !== "Failed") return { index, attempt, state: "running", pod: current };
  if (attempt >= policy.limit) return { index, attempt, state: "exhausted", pod: current };
  const due = failedAt(current) + backoffDelay(policy, attempt + 1);
  if (now >= due) return { index, attempt: attempt + 1, state: "running", replaces: current };
  return { index, attempt, state: "waiting", pod: current, waitMs: due - now };
}

/** Plans for clients 0..count-1 from all observed client pods of the job and its status's clients. */
export function planClients(
  count: number,
  pods: readonly V1Pod[],
  policy: RestartPolicy,
  now: number,
  recorded: readonly RecordedClient[] = [],
): ClientPlan[] {
  const known = new Map(recorded.map((c) => [c.index, c]));
  const byIndex = new Map<number, V1Pod[]>();
  for (const pod of pods) {
    const i = podClientIndex(pod);
    if (i === undefined) continue;
    byIndex.set(i, [...(byIndex.get(i) ?? []), pod]);
  }
  return Array.from({ length: count }, (_, i) =>
    planClient(i, byIndex.get(i) ?? [], policy, now, known.get(i)),
  );
}
