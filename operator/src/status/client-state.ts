// A client's status entry from its restart plan (its current pod) and what it reported over NATS.
// The pod decides whether the client runs at all; the reports say what it does while it runs.
import type { V1Pod } from "@kubernetes/client-node";
import type { ClientStatus, ClientStatusState } from "@sfprompt/api";
import { CLIENT_STATES } from "@sfprompt/protocol";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { ClientProgress } from "../progress/snapshot.js";
import { podReason } from "./pod-reason.js";

export { podReason };

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

function withPodReason(
  state: ClientStatusState,
  pod: V1Pod | undefined,
): { state: ClientStatusState; reason?: string } {
  const reason = podReason(pod);
  return reason !== undefined ? { state, reason } : { state };
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
