// The job's children as the informers' caches hold them, and the stored status with what they give
// back of the values that do not read: what both the reconcile of a valid spec and an invalid spec's
// report build on.
import type { V1ConfigMap, V1Deployment, V1Pod, V1Secret, KubernetesObject } from "@kubernetes/client-node";
import type { Status } from "@sfprompt/api";
import { renderedRounds } from "../desired/config-map.js";
import type { JobRef } from "../desired/owner.js";
import { childNames } from "../names.js";
import { repairedStatus } from "../status/repaired-status.js";
import { readStoredStatus, usableStatus } from "../status/stored-status.js";
import type { ReconcileDeps } from "./deps.js";

/**
 * The stored status as read, with what the job's children give back of the values that do not read
 * (ADR 0023, amendment 9).
 */
export function repairedFrom(seen: Observed, name: string, base: Base, now: Date): Status | undefined {
  return repairedStatus({
    ...base,
    firstPodCreatedAt: firstPodCreatedAt(seen.pods),
    renderedRounds: renderedRounds(seen.configMap),
    clientPod: childNames(name).clientPod,
    now,
  });
}

/** The creationTimestamp (RFC 3339) of the oldest of `pods` not being deleted, if any. */
function firstPodCreatedAt(pods: readonly V1Pod[]): string | undefined {
  const times = pods
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) =>
      p.metadata?.creationTimestamp === undefined ? NaN : new Date(p.metadata.creationTimestamp).getTime(),
    )
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}

/** The job's children as the caches hold them. */
export interface Observed {
  pods: V1Pod[];
  deployment?: V1Deployment;
  secret?: V1Secret;
  configMap?: V1ConfigMap;
}

export function observed(deps: ReconcileDeps, ref: JobRef): Observed {
  const names = childNames(ref.name);
  const find = (kind: string, name: string): KubernetesObject | undefined =>
    deps.informers.children(kind, ref.namespace, ref.uid).find((o) => o.metadata?.name === name);
  return {
    pods: deps.informers.children("Pod", ref.namespace, ref.uid) as V1Pod[],
    deployment: find("Deployment", names.deployment) as V1Deployment | undefined,
    secret: find("Secret", names.secret) as V1Secret | undefined,
    configMap: find("ConfigMap", names.configMap) as V1ConfigMap | undefined,
  };
}

/** What a reconcile builds on: the status as stored (or as last written), and that status read. */
export interface Base {
  /** The status as stored, or the operator's own newer write: the status patch is made over it. */
  stored: unknown;
  /** `stored` as the API reads it (of an unreadable one, the fields that read); undefined if none. */
  previous: Status | undefined;
  /** The top-level fields of `stored` the API rejects (none when it reads). */
  rejected: readonly string[];
}

/**
 * The Base of a reconcile of the job `raw` (the informer's copy), valid spec or not: its cached status,
 * or this operator's last write where the cache has not seen it yet (WrittenStatus), as read.
 */
export function baseOf(deps: ReconcileDeps, raw: KubernetesObject): Base {
  const stored = deps.written.current(raw.metadata!.uid!, (raw as { status?: unknown }).status);
  const read = readStoredStatus({ status: stored });
  return { stored, previous: usableStatus(read), rejected: read.readable ? [] : read.rejected };
}
