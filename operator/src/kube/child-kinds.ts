// The kinds of object a job owns, with what the informers and the pruner need to know about each.

export interface ChildKind {
  apiVersion: string;
  kind: string;
  /** URL path prefix of the group/version: /api/v1 or /apis/apps/v1. */
  groupPath: string;
  plural: string;
}

export const CHILD_KINDS: readonly ChildKind[] = [
  { apiVersion: "v1", kind: "ConfigMap", groupPath: "/api/v1", plural: "configmaps" },
  { apiVersion: "v1", kind: "Secret", groupPath: "/api/v1", plural: "secrets" },
  { apiVersion: "apps/v1", kind: "Deployment", groupPath: "/apis/apps/v1", plural: "deployments" },
  { apiVersion: "v1", kind: "Service", groupPath: "/api/v1", plural: "services" },
  { apiVersion: "v1", kind: "Pod", groupPath: "/api/v1", plural: "pods" },
];

/** The watch path of `plural` under `groupPath`, in one namespace or (namespace undefined) all. */
export function watchPath(groupPath: string, plural: string, namespace: string | undefined): string {
  return namespace ? `${groupPath}/namespaces/${namespace}/${plural}` : `${groupPath}/${plural}`;
}
