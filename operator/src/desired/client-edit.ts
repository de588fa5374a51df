// Which spec fields of an edit reach client pods: those that change the digests ClientsConfigCurrent
// compares (`sfprompt.io/config-hash` and `sfprompt.io/pod-spec-hash` of the pod the operator would
// make), compared through client-pod.ts `clientRevision`, the digest status.clientRevision holds, so
// the webhook's warning, the condition and the ClientPodsOutdated event cannot disagree (ADR 0040,
// amendments 2 and 3). Pure.
import type { SFPromptJob, Spec } from "@sfprompt/api";
import { clientRevision } from "./client-pod.js";
import { configHashes } from "./config-hash.js";
import { changedFields, specFieldDigests } from "./spec-record.js";

/**
 * Stand-ins for the operator's settings. They enter the pod spec as constants, the same for the old
 * and the new spec, so a digest differs here exactly when it differs with the real ones; the one
 * setting a spec field overrides (the NATS URL, by `transport.url`) is in the run config's digest too.
 */
const STAND_IN = {
  image: "client",
  imagePullPolicy: "IfNotPresent",
  natsUrl: "nats://operator",
  edgeNodeLabel: "edge",
} as const;

/** What client pods made from `spec` are made from (status.clientRevision, with the stand-ins). */
function revisionOf(job: SFPromptJob, spec: Spec): string {
  const edited = { ...job, spec };
  const ref = {
    name: job.metadata.name,
    namespace: job.metadata.namespace ?? "default",
    uid: job.metadata.uid ?? "",
  };
  return clientRevision({ ...STAND_IN, job: edited, ref, configHash: configHashes(edited).client });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `old` with the field at `path` (`spec.` and one or two levels, as spec-record.ts names them) from `next`. */
function withFieldOf(old: Spec, next: Spec, path: string): Spec {
  const [, top, sub] = path.split(".") as [string, string, string | undefined];
  const out = structuredClone(old) as Record<string, unknown>;
  const from = (next as Record<string, unknown>)[top];
  if (sub === undefined || !isPlainObject(from) || !isPlainObject(out[top])) out[top] = structuredClone(from);
  else (out[top] as Record<string, unknown>)[sub] = structuredClone(from[sub]);
  return out as Spec;
}

/**
 * The fields (with `spec.`) of the edit from `oldSpec` to `job.spec` that change what a client pod
 * is made from; empty when a running client pod made from `oldSpec` is still current afterwards. A
 * field that changes the pods only together with another of the edit (none does today) makes the
 * answer all the edit's fields rather than none.
 */
export function clientEditFields(job: SFPromptJob, oldSpec: Spec): string[] {
  const before = revisionOf(job, oldSpec);
  if (revisionOf(job, job.spec) === before) return [];
  // The spec record's field diff leaves out ttlSecondsAfterFinished, which no client pod reads.
  const fields = changedFields({ generation: undefined, fields: specFieldDigests(oldSpec) }, job.spec);
  const reaching = fields.filter((p) => alone(job, withFieldOf(oldSpec, job.spec, p), before));
  return reaching.length > 0 ? reaching : fields;
}

/**
 * Whether the spec with one field of the edit changes the revision. Such a mix of two valid specs may
 * be one the run config refuses (fields that must agree): then the field is named, since the edit as
 * a whole does reach the clients, rather than refusing the edit over a warning.
 */
function alone(job: SFPromptJob, mixed: Spec, before: string): boolean {
  try {
    return revisionOf(job, mixed) !== before;
  } catch {
    return true;
  }
}
