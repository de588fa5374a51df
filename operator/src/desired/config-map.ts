// The ConfigMap with the job's run config: what the server and client processes read at start.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { toRunConfig, type SFPromptJob } from "@sfprompt/api";
import { ANNOTATION_FINISHED_OUTCOME, ANNOTATION_FINISHED_SPEC, childLabels, childNames } from "../names.js";
import { ownerReference, type JobRef } from "./owner.js";
import { RUN_CONFIG_KEY } from "./settings.js";

/** The run config as the processes read it (stable key order, so the text is deterministic). */
export function renderRunConfig(job: SFPromptJob): string {
  return `${JSON.stringify(toRunConfig(job), null, 2)}\n`;
}

/** The annotation values a finished job's ConfigMap records: the spec it ran with and how it finished. */
export interface FinishedRecord {
  spec: string;
  outcome: string;
}

/** The job's ConfigMap with these annotations and data (both ConfigMaps below). */
function configMap(
  ref: JobRef,
  annotations: Record<string, string> | undefined,
  data: V1ConfigMap["data"],
): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: childNames(ref.name).configMap,
      namespace: ref.namespace,
      labels: childLabels(ref.name, "config"),
      ...(annotations !== undefined ? { annotations } : {}),
      ownerReferences: [ownerReference(ref)],
    },
    ...(data !== undefined ? { data } : {}),
  };
}

/** The ConfigMap; `finished` records the spec a finished job ran with and how it finished. */
export function desiredConfigMap(job: SFPromptJob, ref: JobRef, finished?: FinishedRecord): V1ConfigMap {
  const annotations =
    finished !== undefined
      ? { [ANNOTATION_FINISHED_SPEC]: finished.spec, [ANNOTATION_FINISHED_OUTCOME]: finished.outcome }
      : undefined;
  return configMap(ref, annotations, { [RUN_CONFIG_KEY]: renderRunConfig(job) });
}

const int = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) ? v : undefined;

/** training.rounds of the run config in `cm` (as rendered by desiredConfigMap); undefined where unreadable. */
export function renderedRounds(cm: V1ConfigMap | undefined): number | undefined {
  const text = cm?.data?.[RUN_CONFIG_KEY];
  if (text === undefined) return undefined;
  try {
    return int((JSON.parse(text) as { training?: { rounds?: unknown } }).training?.rounds);
  } catch {
    // Edited by hand into something that is not JSON: the reconcile renders it again.
    return undefined;
  }
}

/**
 * A finished job's ConfigMap as it is, with the records given in `records` in place of its own: its run
 * config stays as the job finished with it (a later edit of the spec is not rendered), and a record not
 * given is carried over as it stands (ADR 0023, amendments 21 and 22).
 */
export function recordedConfigMap(
  live: V1ConfigMap,
  ref: JobRef,
  records: Partial<FinishedRecord>,
): V1ConfigMap {
  const own = live.metadata?.annotations ?? {};
  const spec = records.spec ?? own[ANNOTATION_FINISHED_SPEC];
  const outcome = records.outcome ?? own[ANNOTATION_FINISHED_OUTCOME];
  const annotations = {
    ...(spec !== undefined ? { [ANNOTATION_FINISHED_SPEC]: spec } : {}),
    ...(outcome !== undefined ? { [ANNOTATION_FINISHED_OUTCOME]: outcome } : {}),
  };
  return configMap(ref, annotations, live.data);
}
