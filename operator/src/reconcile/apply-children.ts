// Brings the children in line with the desired state: server-side apply of each desired object, then
// deletion of owned objects that are no longer desired (pods of a suspended job, replaced client pods)
// and not already being deleted.
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import type { DesiredChildren } from "../desired/children.js";
import { KIND } from "@sfprompt/api";
import { isControlledBy } from "../desired/owner.js";
import { ChildConflictError } from "../errors.js";
import { CHILD_KINDS } from "../kube/child-kinds.js";
import { ANNOTATION_POD_SPEC_HASH, LABEL_JOB, LABEL_MANAGED_BY } from "../names.js";
import type { ReconcileDeps } from "./deps.js";

export interface ApplyOutcome {
  /** Applied objects as the API server returned them, by kind/name. */
  applied: Map<string, KubernetesObject>;
  /** Owned objects deleted because they are no longer desired, or are unstarted pods of an older spec. */
  pruned: KubernetesObject[];
}

const id = (kind: string, name: string): string => `${kind}/${name}`;

const specHash = (o: KubernetesObject): string | undefined =>
  o.metadata?.annotations?.[ANNOTATION_POD_SPEC_HASH];

/** A Pending pod made from another spec than `desired` (pods from before the hash are left alone). */
function notStartedAndStale(live: V1Pod, desired: KubernetesObject): boolean {
  const hash = specHash(live);
  return (
    live.status?.phase === "Pending" &&
    !live.metadata?.deletionTimestamp &&
    hash !== undefined &&
    hash !== specHash(desired)
  );
}

const ADOPT_BY = [LABEL_MANAGED_BY, LABEL_JOB];

/**
 * Throws when an object by the child's name exists but is not controlled by the job: a forced apply
 * would take over someone's ConfigMap or Service, and garbage collection would delete it with the job.
 * Only asked for children missing from the cache (being created, or relabelled by hand).
 */
async function refuseForeign(deps: ReconcileDeps, obj: KubernetesObject, uid: string): Promise<void> {
  const m = obj.metadata!;
  const live = await deps.client.read({
    apiVersion: obj.apiVersion!,
    kind: obj.kind!,
    namespace: m.namespace!,
    name: m.name!,
  });
  if (!live || isControlledBy(live.metadata?.ownerReferences, uid)) return;
  const owner = live.metadata?.ownerReferences?.find((r) => r.controller === true);
  // An orphan with the job's labels was the job's (kubectl delete --cascade=orphan, then the job made
  // again): adopt it, as a Deployment adopts the orphaned ReplicaSets its selector matches.
  if (!owner && ADOPT_BY.every((k) => live.metadata?.labels?.[k] === m.labels?.[k])) return;
  throw new ChildConflictError(
    `${obj.kind} ${m.namespace}/${m.name}`,
    owner && `${owner.kind} ${owner.name}${owner.kind === KIND ? ` (uid ${owner.uid})` : ""}`,
  );
}

/**
 * Applies and prunes. `applied` is filled as objects are applied, so a caller whose apply failed
 * half-way still knows which ones the API server took.
 */
export async function applyChildren(
  deps: ReconcileDeps,
  namespace: string,
  uid: string,
  desired: DesiredChildren,
  applied = new Map<string, KubernetesObject>(),
): Promise<ApplyOutcome> {
  const existingPods = new Map(
    deps.informers.children("Pod", namespace, uid).map((p) => [p.metadata?.name, p as V1Pod]),
  );
  const ours = new Set(
    CHILD_KINDS.flatMap((k) =>
      deps.informers.children(k.kind, namespace, uid).map((o) => id(k.kind, o.metadata!.name!)),
    ),
  );
  const pruned: KubernetesObject[] = [];
  for (const obj of desired.apply) {
    const name = obj.metadata!.name!;
    if (!ours.has(id(obj.kind!, name))) await refuseForeign(deps, obj, uid);
    const live = obj.kind === "Pod" ? existingPods.get(name) : undefined;
    // A pod's spec cannot change after creation; applying to a live pod could only fail or no-op.
    // One that has not started yet loses nothing by being replaced (the next reconcile creates it
    // again from the current spec), so a fixed node selector or env reaches it.
    if (live) {
      if (notStartedAndStale(live, obj)) {
        await deps.client.delete({ apiVersion: "v1", kind: "Pod", namespace, name }, live.metadata?.uid);
        pruned.push(live);
      }
      continue;
    }
    applied.set(id(obj.kind!, name), await deps.client.apply(obj));
  }
  const wanted = new Set([
    ...desired.apply.map((o) => id(o.kind!, o.metadata!.name!)),
    ...desired.keep.map((k) => id(k.kind, k.name)),
  ]);
  for (const kind of CHILD_KINDS) {
    for (const obj of deps.informers.children(kind.kind, namespace, uid)) {
      // One already being deleted (a pod bound to a node waits for its kubelet) needs no second delete.
      if (wanted.has(id(kind.kind, obj.metadata!.name!)) || obj.metadata?.deletionTimestamp) continue;
      await deps.client.delete(
        { apiVersion: kind.apiVersion, kind: kind.kind, namespace, name: obj.metadata!.name! },
        obj.metadata?.uid,
      );
      pruned.push(obj);
    }
  }
  return { applied, pruned };
}
