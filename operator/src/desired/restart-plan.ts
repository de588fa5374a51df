// Which pod each client should have: the current one, or a replacement for a Failed one once its
// backoff has passed. The attempt number lives in the pod's name and annotation, and the delay counts
// from the time the pod failed (from its status), so nothing here reads the wall clock except `now`.
import type { V1Pod } from "@kubernetes/client-node";
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

/** The plan of client `index` given its observed pods (any attempts) at time `now` (ms). */
export function planClient(
  index: number,
  pods: readonly V1Pod[],
  policy: RestartPolicy,
  now: number,
): ClientPlan {
  const current = [...pods].sort((a, b) => podAttempt(b) - podAttempt(a))[0];
  if (!current) return { index, attempt: 0, state: "running" };
  const attempt = podAttempt(current);
  if (current.status?.phase !== "Failed") return { index, attempt, state: "running", pod: current };
  if (attempt >= policy.limit) return { index, attempt, state: "exhausted", pod: current };
  const due = failedAt(current) + backoffDelay(policy, attempt + 1);
  if (now >= due) return { index, attempt: attempt + 1, state: "running" };
  return { index, attempt, state: "waiting", pod: current, waitMs: due - now };
}

/** Plans for clients 0..count-1 from all observed client pods of the job. */
export function planClients(
  count: number,
  pods: readonly V1Pod[],
  policy: RestartPolicy,
  now: number,
): ClientPlan[] {
  const byIndex = new Map<number, V1Pod[]>();
  for (const pod of pods) {
    const i = podClientIndex(pod);
    if (i === undefined) continue;
    byIndex.set(i, [...(byIndex.get(i) ?? []), pod]);
  }
  return Array.from({ length: count }, (_, i) => planClient(i, byIndex.get(i) ?? [], policy, now));
}
