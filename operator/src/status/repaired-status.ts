// Of a stored status that does not read, what the operator's other records give back where the value
// itself is lost: the startTime the deadline counts from, why a finished job finished, the rounds it
// ran with and its clients' restart counts (ADR 0023, amendment 9). Pure: what the children record
// and now come in.
import { ConditionSchema, type ClientStatus, type Condition, type Status } from "@sfprompt/api";
import { findCondition } from "./conditions.js";

/** The Failed reason of a job whose stored Failed condition, reason and message, does not read. */
export const FAILURE_REASON_LOST = "FailureReasonLost";

export interface RepairInput {
  /** The stored status as read (of an unreadable one, what reads). */
  previous: Status | undefined;
  /** The status as stored: a condition whose time does not read may still have a reason that does. */
  stored: unknown;
  /** The top-level fields of `stored` the API rejects. */
  rejected: readonly string[];
  /** The creationTimestamp (RFC 3339) of the job's oldest client pod not being deleted, if any. */
  firstPodCreatedAt?: string | undefined;
  /** training.rounds of the run config on the job's ConfigMap (a finished job's is the one it ran with). */
  renderedRounds?: number | undefined;
  /** The name of client `index`'s pod of restart `attempt` (childNames(job).clientPod). */
  clientPod?: ((index: number, attempt: number) => string) | undefined;
  now: Date;
}

/**
 * When the deadline started counting, of a status whose startTime does not read. The Suspended
 * condition turned False in the very write that set the startTime (the job's first reconcile, or its
 * resume: both take the same `now`), so its time is the startTime itself; a job that is suspended has
 * none. Without that condition, the job's oldest client pod: client pods are made in that same
 * reconcile and deleted while the job is suspended, so none is older than the start (their
 * creationTimestamp has whole seconds: at most one second before it), and pods made later (restarts)
 * only put it later. Not the server Deployment: it stays, scaled to 0, through a suspension.
 */
function recoveredStartTime(
  previous: Status | undefined,
  firstPodCreatedAt: string | undefined,
): string | undefined {
  const suspended = findCondition(previous?.conditions, "Suspended");
  if (suspended?.status === "True") return undefined;
  if (suspended?.status === "False") return suspended.lastTransitionTime;
  return firstPodCreatedAt;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Reason and message of the stored condition `type` that holds True, where both read. */
function storedConditionText(stored: unknown, type: string): { reason: string; message: string } | undefined {
  const list = isRecord(stored) && Array.isArray(stored.conditions) ? (stored.conditions as unknown[]) : [];
  const c = list.find((x) => isRecord(x) && x.type === type && x.status === "True");
  const r = ConditionSchema.pick({ reason: true, message: true }).safeParse(c);
  return r.success ? r.data : undefined;
}

/** What a finished job's condition said, when the stored one gives nothing that reads. */
function fallbackText(previous: Status, phase: "Succeeded" | "Failed"): { reason: string; message: string } {
  if (phase === "Succeeded") {
    // the one reason and message the operator writes on success (lifecycle.ts)
    const after = previous.round !== undefined ? ` after round ${previous.round}` : "";
    return { reason: "TrainingCompleted", message: `training finished${after}` };
  }
  return {
    reason: FAILURE_REASON_LOST,
    message:
      "the job had failed; why was in its stored Failed condition, which did not read and is lost (the job's Warning events of the time may say)",
  };
}

/**
 * A finished job's Succeeded or Failed condition, of a stored status where it does not read: its
 * reason and message as stored where they read (its time is what did not), else the best known; its
 * time the completionTime, written with it. The lifecycle decides from the reason (an InvalidSpec
 * failure is not for good; the operator's own failures are not told to the clients, ADR 0012).
 */
function terminalCondition(previous: Status, stored: unknown, now: Date): Condition | undefined {
  const phase = previous.phase;
  if (phase !== "Succeeded" && phase !== "Failed") return undefined;
  if (findCondition(previous.conditions, phase)) return undefined;
  return {
    type: phase,
    status: "True",
    ...(storedConditionText(stored, phase) ?? fallbackText(previous, phase)),
    lastTransitionTime: previous.completionTime ?? now.toISOString(),
  };
}

/**
 * The restart count a client's recorded pod name says: the attempt whose pod has that name (`-rN`, none
 * for 0), checked by naming it again (a name shortened with a hash says nothing). A pod name is
 * written with the count of its own attempt, so it is the count itself.
 */
function restartsOfPod(
  entry: ClientStatus,
  clientPod: (index: number, attempt: number) => string,
): number | undefined {
  if (entry.pod === undefined) return undefined;
  const n = Number(/-r(\d+)$/.exec(entry.pod)?.[1] ?? 0);
  return Number.isSafeInteger(n) && clientPod(entry.index, n) === entry.pod ? n : undefined;
}

function withRestarts(
  clients: readonly ClientStatus[],
  clientPod: (index: number, attempt: number) => string,
): ClientStatus[] {
  return clients.map((c) => {
    const restarts = c.restarts ?? restartsOfPod(c, clientPod);
    return restarts === undefined ? c : { ...c, restarts };
  });
}

/** `previous` with what other records give back of the values that did not read. */
export function repairedStatus(input: RepairInput): Status | undefined {
  const { previous, rejected } = input;
  if (previous === undefined || rejected.length === 0) return previous;
  let out = previous;
  if (rejected.includes("startTime") && out.startTime === undefined) {
    const startTime = recoveredStartTime(out, input.firstPodCreatedAt);
    if (startTime !== undefined) out = { ...out, startTime };
  }
  const finished = rejected.includes("conditions")
    ? terminalCondition(out, input.stored, input.now)
    : undefined;
  if (finished) out = { ...out, conditions: [...(out.conditions ?? []), finished] };
  if (rejected.includes("rounds") && out.rounds === undefined && input.renderedRounds !== undefined)
    out = { ...out, rounds: input.renderedRounds };
  if (rejected.includes("clients") && out.clients !== undefined && input.clientPod !== undefined)
    out = { ...out, clients: withRestarts(out.clients, input.clientPod) };
  return out;
}
