// Pieces shared by the server's pod template and the client pods: volumes, common env, resources,
// probes and a restrictive security context.
import { posix } from "node:path";
import type {
  V1EnvVar,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { DataSource, EnvVar, ResourceRequirements, SFPromptJob } from "@sfprompt/api";
import { toRunConfig } from "@sfprompt/api";
import { childNames } from "../names.js";
import type { JobRef } from "./owner.js";
import {
  CONFIG_DIR,
  CREDENTIALS_DIR,
  HEALTH_PORT,
  MODEL_CONFIGMAP_FILE,
  MODEL_DIR,
  RUN_CONFIG_KEY,
} from "./settings.js";

/** The ConfigMap and the credentials (the job's Secret plus the user's, if named) as volumes. */
export function jobVolumes(job: SFPromptJob, ref: JobRef): V1Volume[] {
  const names = childNames(ref.name);
  const userSecret = job.spec.transport.credentialsSecret;
  return [
    { name: "config", configMap: { name: names.configMap } },
    {
      name: "credentials",
      projected: {
        sources: [
          { secret: { name: names.secret } },
          ...(userSecret ? [{ secret: { name: userSecret } }] : []),
        ],
      },
    },
  ];
}

export const JOB_VOLUME_MOUNTS: V1VolumeMount[] = [
  { name: "config", mountPath: CONFIG_DIR, readOnly: true },
  { name: "credentials", mountPath: CREDENTIALS_DIR, readOnly: true },
];

/** What a job's model source adds to its pods: a read-only volume and SFPROMPT_MODEL_PATH. */
export interface ModelMount {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  env: V1EnvVar[];
}

/**
 * The model of `spec.model.source` where the images look for it (SFPROMPT_MODEL_PATH). A claim is
 * mounted whole, so an ONNX file's external-data files next to it come along; a ConfigMap key is
 * mounted as one file. builtin and path sources need nothing: the image builds the demo model, and
 * a path is already inside the image (or a volume the user added).
 */
export function modelMount(job: SFPromptJob): ModelMount {
  const source = job.spec.model.source;
  const mounts: V1VolumeMount[] = [{ name: "model", mountPath: MODEL_DIR, readOnly: true }];
  if (source.persistentVolumeClaim) {
    const { claimName, path } = source.persistentVolumeClaim;
    return {
      volumes: [{ name: "model", persistentVolumeClaim: { claimName, readOnly: true } }],
      mounts,
      env: [{ name: "SFPROMPT_MODEL_PATH", value: posix.join(MODEL_DIR, path) }],
    };
  }
  if (source.configMap) {
    const { name, key } = source.configMap;
    return {
      volumes: [{ name: "model", configMap: { name, items: [{ key, path: MODEL_CONFIGMAP_FILE }] } }],
      mounts,
      env: [{ name: "SFPROMPT_MODEL_PATH", value: `${MODEL_DIR}/${MODEL_CONFIGMAP_FILE}` }],
    };
  }
  return { volumes: [], mounts: [], env: [] };
}

/**
 * Folder and JSONL data on the node itself (a client's own data, the server's held-out set), which
 * never leaves it: a read-only hostPath volume named `name`, mounted at the same path. Built-in
 * data needs nothing (the images hold it).
 */
export function nodeDataMount(
  source: DataSource | undefined,
  name: string,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const path = source?.imageFolder?.path ?? source?.jsonl?.path;
  if (!path) return { volumes: [], mounts: [] };
  const type = source?.imageFolder ? "Directory" : "File";
  return {
    volumes: [{ name, hostPath: { path, type } }],
    mounts: [{ name, mountPath: path, readOnly: true }],
  };
}

/** The NATS URL a job's processes use: its own, else the operator's (bundled NATS). */
export function jobNatsUrl(job: SFPromptJob, operatorUrl: string): string {
  return job.spec.transport.url ?? operatorUrl;
}

/**
 * The job's own variables (spec.server.env, spec.clients.env) as container env entries: a literal
 * value, or a Secret / ConfigMap key (valueFrom) with no value beside it.
 */
export function userEnv(vars: readonly EnvVar[] | undefined): V1EnvVar[] {
  return (vars ?? []).map((v) =>
    v.valueFrom === undefined ? { name: v.name, value: v.value } : { name: v.name, valueFrom: v.valueFrom },
  );
}

/** Env every process of the job gets: who it is, where its config and NATS are. */
export function commonEnv(job: SFPromptJob, ref: JobRef, natsUrl: string): V1EnvVar[] {
  return [
    { name: "SFPROMPT_JOB", value: ref.name },
    { name: "SFPROMPT_NAMESPACE", value: ref.namespace },
    { name: "SFPROMPT_SUBJECT_PREFIX", value: toRunConfig(job).names.subjectPrefix },
    { name: "SFPROMPT_RUN_CONFIG", value: `${CONFIG_DIR}/${RUN_CONFIG_KEY}` },
    { name: "SFPROMPT_CREDENTIALS_DIR", value: CREDENTIALS_DIR },
    { name: "NATS_URL", value: natsUrl },
  ];
}

/**
 * The user's resources, or `defaults` when the spec gives none (mixing both could put a default limit
 * below a user's request), plus `extra` (the GPU) in both; quantities as strings, as the API server
 * returns them.
 */
export function resources(
  user: ResourceRequirements | undefined,
  defaults: { requests: Record<string, string>; limits?: Record<string, string> },
  extra: Record<string, string> = {},
): V1ResourceRequirements {
  const str = (m: Record<string, string | number> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
  const base = user ? { requests: str(user.requests), limits: str(user.limits) } : defaults;
  const requests = { ...base.requests, ...extra };
  const limits = { ...base.limits, ...extra };
  return Object.keys(limits).length > 0 ? { requests, limits } : { requests };
}

/**
 * HTTP probe on the process's /healthz (alive: liveness and startup) or /readyz (connected to NATS
 * with its model loaded: readiness, so a server replica counts as available only when it can serve).
 */
export function healthProbe(
  periodSeconds: number,
  failureThreshold: number,
  path: "/healthz" | "/readyz" = "/healthz",
): V1Probe {
  return {
    httpGet: { path, port: HEALTH_PORT },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  };
}

export const CONTAINER_SECURITY: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
};
