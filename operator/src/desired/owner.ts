// Owner references: every child names its job as controller, so garbage collection removes it with the
// job and the operator can tell its own children from anything else with the same labels.
import type { V1OwnerReference } from "@kubernetes/client-node";
import { API_VERSION, KIND } from "@sfprompt/api";

export interface JobRef {
  name: string;
  namespace: string;
  uid: string;
}

/** The controller owner reference that points at `job`. */
export function ownerReference(job: JobRef): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: job.name,
    uid: job.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** True when `refs` name the job with `uid` as controller. */
export function isControlledBy(refs: V1OwnerReference[] | undefined, uid: string): boolean {
  return (refs ?? []).some((r) => r.controller === true && r.uid === uid);
}

/** The name of the SFPromptJob that controls an object with these owner references, if any. */
export function controllingJob(refs: V1OwnerReference[] | undefined): string | undefined {
  return (refs ?? []).find((r) => r.controller === true && r.kind === KIND && r.apiVersion === API_VERSION)
    ?.name;
}
