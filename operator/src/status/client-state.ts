// A client's status entry from its restart plan (its current pod) and what it reported over NATS.
// The pod decides whether the client runs at all; the reports say what it does while it runs.
import type { V1Pod } from "@kubernetes/client-node";
import type { ClientStatus, ClientStatusState } from "@sfprompt/api";
import { CLIENT_STATES } from "@sfprompt/protocol";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { ClientProgress } from "../progress/snapshot.js";

function time(v: Date | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** When the pod started (or was created): reports from before it belong to an earlier pod. */
function podSince(pod: V1Pod): number | undefined {
  return time(pod.status?.startTime) ?? time(pod.metadata?.creationTimestamp);
}

/** The client's report, unless it predates the current pod (a replaced client has not spoken yet). */
function currentReport(plan: ClientPlan, reported: ClientProgress | undefined): ClientProgress | undefined {
  if (!reported?.state || !plan.pod) return undefined;
  const since = podSince(plan.pod);
  const at = time(reported.stateAt);
  // Pod times have whole seconds; a report in the pod's first second still counts.
  if (since !== undefined && at !== undefined && at < since - 1000) return undefined;
  return reported;
}

// Every state a client reports on the progress stream is also a status state (api's list adds "running").
const REPORTED: ReadonlySet<string> = new Set<ClientStatusState>(CLIENT_STATES);

/** Why a pod ended or waits, from its container states and conditions (what `kubectl describe` shows). */
export function podReason(pod: V1Pod | undefined): string | undefined {
  const statuses = pod?.status?.containerStatuses ?? [];
  const terminated = statuses.map((c) => c.state?.terminated).find((t) => t !== undefined);
  if (terminated) {
    const what = `${terminated.reason ?? "Error"} (exit code ${terminated.exitCode})`;
    return terminated.message ? `${what}: ${terminated.message}` : what;
  }
  const waiting = statuses.map((c) => c.state?.waiting).find((w) => w?.reason !== undefined);
  if (waiting) return waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason;
  const unscheduled = pod?.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled) return `${unscheduled.reason ?? "Unschedulable"}: ${unscheduled.message ?? ""}`.trim();
  if (pod?.status?.reason) return `${pod.status.reason}: ${pod.status.message ?? ""}`.trim();
  return undefined;
}

function withPodReason(
  state: ClientStatusState,
  pod: V1Pod | undefined,
): { state: ClientStatusState; reason?: string } {
  const reason = podReason(pod);
  return reason !== undefined ? { state, reason: reason.slice(0, 1024) } : { state };
}

/** What the client is doing, and why when it said. */
export function clientState(
  plan: ClientPlan,
  reported: ClientProgress | undefined,
): { state: ClientStatusState; reason?: string } {
  const phase = plan.pod?.status?.phase;
  if (plan.state !== "running" || phase === "Failed") return withPodReason("failed", plan.pod);
  if (phase === "Succeeded") return { state: "done" };
  if (phase !== "Running") return withPodReason("pending", plan.pod);
  const report = currentReport(plan, reported);
  if (!report?.state || !REPORTED.has(report.state)) return { state: "running" };
  return {
    state: report.state as ClientStatusState,
    ...(report.reason !== undefined ? { reason: report.reason.slice(0, 1024) } : {}),
  };
}

/** Pod, node and restart count of a client, from its plan. */
export function clientPodFields(plan: ClientPlan): Pick<ClientStatus, "pod" | "node" | "restarts"> {
  const pod = plan.pod?.metadata?.name;
  const node = plan.pod?.spec?.nodeName;
  return { restarts: plan.attempt, ...(pod ? { pod } : {}), ...(node ? { node } : {}) };
}
