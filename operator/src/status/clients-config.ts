// ClientsConfigCurrent: whether the running client pods were made from the current spec. A running
// client pod is not replaced for an edit (ADR 0040): it takes the new run config (its
// `sfprompt.io/config-hash`) or pod spec (`sfprompt.io/pod-spec-hash`: env, resources, placement, image)
// when its pod is next created. Pure.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ClientPlan } from "../desired/restart-plan.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_POD_SPEC_HASH } from "../names.js";
import type { ConditionUpdate } from "./conditions.js";

export const CLIENTS_CONFIG_CURRENT = "ClientsConfigCurrent";
export const CLIENT_PODS_OUTDATED = "ClientPodsOutdated";

type Annotations = Record<string, string> | undefined;

/** Whether the live pod carries a digest of `key` other than the desired one (none carried: unknown, not older). */
function older(live: Annotations, desired: Annotations, key: string): boolean {
  const had = live?.[key];
  return had !== undefined && desired?.[key] !== undefined && had !== desired[key];
}

const list = (xs: number[]): string => `${xs.length === 1 ? "client" : "clients"} ${xs.join(", ")}`;

/**
 * The condition from the client plans and the desired children (a pod as it would be made now, by
 * name). Only Running pods count: a Pending one of an older pod spec is replaced, a finished one is done.
 */
export function clientsConfigCondition(
  plans: readonly ClientPlan[],
  desired: readonly KubernetesObject[],
): ConditionUpdate {
  const wanted = new Map(desired.filter((o) => o.kind === "Pod").map((o) => [o.metadata?.name, o]));
  const running = plans.filter((p) => p.state === "running" && p.pod?.status?.phase === "Running");
  const config: number[] = [];
  const podSpec: number[] = [];
  for (const p of running) {
    const live = p.pod?.metadata?.annotations;
    const want = wanted.get(p.pod?.metadata?.name)?.metadata?.annotations;
    if (older(live, want, ANNOTATION_CONFIG_HASH)) config.push(p.index);
    if (older(live, want, ANNOTATION_POD_SPEC_HASH)) podSpec.push(p.index);
  }
  const outdated = new Set([...config, ...podSpec]);
  const base = { type: CLIENTS_CONFIG_CURRENT };
  if (running.length === 0)
    return { ...base, status: "True", reason: "NoRunningClients", message: "no client pod is running" };
  if (outdated.size === 0)
    return {
      ...base,
      status: "True",
      reason: "AllCurrent",
      message: `all ${running.length} running client pods run the current run config and pod spec`,
    };
  const which = [
    config.length > 0 ? `an older run config: ${list(config)}` : "",
    podSpec.length > 0 ? `an older pod spec: ${list(podSpec)}` : "",
  ].filter((s) => s !== "");
  return {
    ...base,
    status: "False",
    reason: CLIENT_PODS_OUTDATED,
    message:
      `${outdated.size} of ${running.length} running client pods run an older spec than the job's ` +
      `(${which.join("; ")}); a running client pod is not replaced for an edit, it takes the current one ` +
      "when next created (after a failure, or when its pod is deleted, which does not count as a restart)",
  };
}
