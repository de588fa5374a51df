// Brings the children in line with the desired state: server-side apply of each desired object, then
// deletion of owned objects that are no longer desired (pods of a suspended job, replaced client pods).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { DesiredChildren } from "../desired/children.js";
import { CHILD_KINDS } from "../kube/child-kinds.js";
import type { ReconcileDeps } from "./deps.js";

export interface ApplyOutcome {
  /** Applied objects as the API server returned them, by kind/name. */
  applied: Map<string, KubernetesObject>;
  /** Owned objects deleted because they are no longer desired. */
  pruned: KubernetesObject[];
}

const id = (kind: string, name: string): string => `${kind}/${name}`;

export async function applyChildren(
  deps: ReconcileDeps,
  namespace: string,
  uid: string,
  desired: DesiredChildren,
): Promise<ApplyOutcome> {
  const applied = new Map<string, KubernetesObject>();
  const existingPods = new Set(deps.informers.children("Pod", namespace, uid).map((p) => p.metadata?.name));
  for (const obj of desired.apply) {
    const name = obj.metadata!.name!;
    // A pod's spec cannot change after creation; applying to a live pod could only fail or no-op.
    if (obj.kind === "Pod" && existingPods.has(name)) continue;
    applied.set(id(obj.kind!, name), await deps.client.apply(obj));
  }
  const wanted = new Set([
    ...desired.apply.map((o) => id(o.kind!, o.metadata!.name!)),
    ...desired.keep.map((k) => id(k.kind, k.name)),
  ]);
  const pruned: KubernetesObject[] = [];
  for (const kind of CHILD_KINDS) {
    for (const obj of deps.informers.children(kind.kind, namespace, uid)) {
      if (wanted.has(id(kind.kind, obj.metadata!.name!))) continue;
      await deps.client.delete(
        { apiVersion: kind.apiVersion, kind: kind.kind, namespace, name: obj.metadata!.name! },
        obj.metadata?.uid,
      );
      pruned.push(obj);
    }
  }
  return { applied, pruned };
}
