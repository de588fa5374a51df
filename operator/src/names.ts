// Deterministic names and labels of a job's children: the same job always yields the same names, so
// a restarted operator finds what it created instead of creating it again.
import { createHash } from "node:crypto";

export const FIELD_MANAGER = "sfprompt-operator";
export const FINALIZER = "sfprompt.io/nats-cleanup";

export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_INSTANCE = "app.kubernetes.io/instance";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_JOB = "sfprompt.io/job";
export const LABEL_CLIENT_INDEX = "sfprompt.io/client-index";

export const ANNOTATION_RESTARTS = "sfprompt.io/restarts";
/**
 * On the job's pods: the job's full name, which the sfprompt.io/job label holds only up to 63
 * characters (jobLabelValue). The chart's PodMonitor sets the pods' `sfprompt_job` from it, so that
 * their series join the operator's per-job series on the job's name (ADR 0015, amendment 3).
 */
export const ANNOTATION_JOB_NAME = "sfprompt.io/job-name";
export const ANNOTATION_CONFIG_HASH = "sfprompt.io/config-hash";
/** Digest of a client pod's spec as desired, to tell a pod made from an older spec. */
export const ANNOTATION_POD_SPEC_HASH = "sfprompt.io/pod-spec-hash";
/** On a finished job's ConfigMap: digests of the spec fields the job finished with (ADR 0034, amendment 1). */
export const ANNOTATION_FINISHED_SPEC = "sfprompt.io/finished-spec";
/**
 * On a finished job's ConfigMap, written with the spec record: how the job finished (phase, reason,
 * message, completionTime, startTime), read back when its status loses it (ADR 0023, amendment 18).
 */
export const ANNOTATION_FINISHED_OUTCOME = "sfprompt.io/finished-outcome";

/** Label selector matching every child the operator manages (what its informers watch). */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${FIELD_MANAGER}`;

export type Component = "config" | "credentials" | "server" | "client";

/** A short, stable digest of `text` (hex). */
export function digest(text: string, length = 16): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * `text` cut to `max` characters; when cut, the end is replaced by a digest of the whole, so two long
 * names that share a prefix still differ. Label values and Service names allow only 63 characters.
 */
export function fitName(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = digest(text, 10);
  return `${text.slice(0, max - hash.length - 1).replace(/[-.]+$/, "")}-${hash}`;
}

/** A DNS-1035 label, what a Service name must be: no dots, and a letter first. */
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `text` as a Service name (a DNS-1035 label of ≤ 63 characters). A job name may hold dots or start
 * with a digit (it is a DNS-1123 subdomain), which the API server refuses in a Service name; such a
 * name gets its dots turned into '-', an `s-` before a leading digit, and a digest of the original,
 * so that `a.b` and `a-b` still get different Services.
 */
export function serviceName(text: string): string {
  if (DNS_1035.test(text)) return fitName(text, 63);
  const hash = digest(text, 10);
  const label = `${/^[a-z]/.test(text) ? "" : "s-"}${text.replace(/\./g, "-")}`;
  return `${label.slice(0, 63 - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** The job name as a label value (≤ 63 characters). */
export function jobLabelValue(job: string): string {
  return fitName(job, 63);
}

export interface ChildNames {
  configMap: string;
  secret: string;
  deployment: string;
  service: string;
  /** Name of client `index`'s pod at restart `attempt` (0 for the first pod). */
  clientPod(index: number, attempt: number): string;
}

/** Names of the children of job `job`. */
export function childNames(job: string): ChildNames {
  return {
    configMap: fitName(`${job}-config`, 253),
    secret: fitName(`${job}-nats`, 253),
    // The Deployment controller names its ReplicaSets <deployment>-<pod-template-hash> (≤ 10
    // characters) and no name may pass 253: a longer Deployment name would never get a pod.
    deployment: fitName(`${job}-server`, 253 - 11),
    service: serviceName(`${job}-server`),
    clientPod: (index, attempt) => fitName(`${job}-client-${index}${attempt > 0 ? `-r${attempt}` : ""}`, 253),
  };
}

/** Labels every child of `job` carries; `component` says which part it is. */
export function childLabels(job: string, component: Component): Record<string, string> {
  return {
    [LABEL_NAME]: "sfprompt",
    [LABEL_INSTANCE]: jobLabelValue(job),
    [LABEL_COMPONENT]: component,
    [LABEL_MANAGED_BY]: FIELD_MANAGER,
    [LABEL_JOB]: jobLabelValue(job),
  };
}

/** The job whose server Deployment made a pod with this metadata (its template's labels and annotation), if any. */
export function serverPodJob(
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined,
): string | undefined {
  const l = meta?.labels ?? {};
  if (l[LABEL_COMPONENT] !== "server" || l[LABEL_MANAGED_BY] !== FIELD_MANAGER) return undefined;
  return meta?.annotations?.[ANNOTATION_JOB_NAME];
}

/** The work-queue key of a job: `namespace/name`, as client-go's MetaNamespaceKeyFunc. */
export function jobKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Splits a work-queue key into namespace and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
