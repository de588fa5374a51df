// status.clients: each client's phase, state and counts from its plan (its pod), the progress view and
// the last written entry; a finished job's client whose pod is gone keeps its last entry (ADR 0012). Pure.
import type { ClientStatus } from "@sfprompt/api";
import { finishedClientPlan } from "../desired/finished-clients.js";
import type { ClientPlan } from "../desired/restart-plan.js";
import { withWrittenCounts } from "./client-counts.js";
import { clientPodFields, clientState } from "./client-state.js";
import type { Lifecycle } from "./lifecycle.js";
import type { StatusInput } from "./status-input.js";
import { stripUndefined } from "./strip-undefined.js";

function clientPhase(plan: ClientPlan): ClientStatus["phase"] {
  if (plan.state !== "running") return "Failed";
  const p = plan.pod?.status?.phase;
  return p === "Running" || p === "Succeeded" || p === "Failed" || p === "Unknown" ? p : "Pending";
}

/**
 * A finished job's client whose pod is gone or being deleted: a pod not seen to finish was deleted
 * before it exited (ADR 0012, amendment 2), so how it ended is Unknown, never Running.
 */
function deletedClient(entry: ClientStatus, terminal: NonNullable<Lifecycle["terminal"]>): ClientStatus {
  if (entry.phase === "Succeeded" || entry.phase === "Failed" || entry.phase === "Unknown") return entry;
  const job = terminal.phase === "Succeeded" ? "succeeded" : "failed";
  const was = entry.state !== undefined ? ` (last state ${entry.state})` : "";
  const pod = entry.pod !== undefined ? `pod ${entry.pod}` : "its pod";
  return {
    ...entry,
    phase: "Unknown",
    reason: `${pod} was deleted after the job ${job}, before it exited${was}: how it ended was not observed`,
  };
}

/** The clients' entries of the status to write, one per plan. */
export function clientStatuses(input: StatusInput): ClientStatus[] {
  const { plans, progress, lifecycle } = input;
  const before = new Map((input.job.status?.clients ?? []).map((c) => [c.index, c]));
  return plans.map((planned) => {
    const plan = lifecycle.terminal ? finishedClientPlan(planned) : planned;
    // A finished job's pod that is gone leaves its last observed entry (Unknown if it was not seen to finish).
    const last = before.get(plan.index);
    if (lifecycle.terminal && !plan.pod && last) return deletedClient(last, lifecycle.terminal);
    // Until the progress replay has caught up, the last written round and state stand; the state
    // only while it is about the same pod (and "pending" was the pod's, not a report).
    const samePod = last?.pod !== undefined && last.pod === plan.pod?.metadata?.name;
    const carried = samePod && last?.state !== "pending" ? { state: last?.state, reason: last?.reason } : {};
    const p = progress
      ? withWrittenCounts(progress.clients[plan.index], last, progress)
      : last && { lastRound: last.lastRound, samples: last.samples, kept: last.kept, ...carried };
    const state = clientState(plan, p);
    const entry = stripUndefined({
      index: plan.index,
      phase: clientPhase(plan),
      state: state.state,
      reason: state.reason,
      ...clientPodFields(plan),
      samples: p?.samples,
      kept: p?.kept,
      lastRound: p?.lastRound,
    });
    const deleting = plan.pod?.metadata?.deletionTimestamp !== undefined;
    return lifecycle.terminal && deleting ? deletedClient(entry, lifecycle.terminal) : entry;
  });
}
