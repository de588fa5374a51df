// Everything a job should own right now, as one pure function of the job, the operator's settings,
// the lifecycle decision and the client restart plans.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { SFPromptJob } from "@sfprompt/api";
import type { Lifecycle } from "../status/lifecycle.js";
import { desiredClientPod } from "./client-pod.js";
import { configHashes } from "./config-hash.js";
import { desiredConfigMap } from "./config-map.js";
import type { JobRef } from "./owner.js";
import { jobNatsUrl } from "./pod-parts.js";
import type { ClientPlan } from "./restart-plan.js";
import { desiredSecret } from "./secret.js";
import { desiredDeployment, desiredService } from "./server.js";
import type { ChildSettings } from "./settings.js";

export interface DesiredInput {
  job: SFPromptJob;
  ref: JobRef;
  settings: ChildSettings;
  /** The job key carried over from the existing Secret (or generated once by the caller). */
  jobKey: string;
  lifecycle: Lifecycle;
  plans: readonly ClientPlan[];
}

export interface DesiredChildren {
  /** Objects to server-side apply (pods only when absent: a pod's spec is immutable). */
  apply: KubernetesObject[];
  /** Existing pods to leave alone: failed pods kept for their logs and their restart count. */
  keep: { kind: "Pod"; name: string }[];
}

function clientPods(input: DesiredInput, configHash: string, natsUrl: string): DesiredChildren {
  const { lifecycle, plans, settings } = input;
  if (lifecycle.suspended) return { apply: [], keep: [] };
  const finished = (p: ClientPlan): boolean => ["Succeeded", "Failed"].includes(p.pod?.status?.phase ?? "");
  const keep = plans
    .filter((p) => p.pod && (lifecycle.terminal ? finished(p) : p.state !== "running"))
    .map((p) => ({ kind: "Pod" as const, name: p.pod!.metadata!.name! }));
  if (lifecycle.terminal) return { apply: [], keep };
  const apply = plans
    .filter((p) => p.state === "running")
    .map((p) =>
      desiredClientPod({
        job: input.job,
        ref: input.ref,
        index: p.index,
        attempt: p.attempt,
        image: settings.clientImage,
        imagePullPolicy: settings.imagePullPolicy,
        natsUrl,
        edgeNodeLabel: settings.edgeNodeLabel,
        configHash,
      }),
    );
  return { apply, keep };
}

/** The GPU server image for a job that asks for GPUs, when the operator has one; else the server image. */
export function serverImageFor(job: SFPromptJob, settings: ChildSettings): string {
  return job.spec.server.gpus > 0 && settings.gpuServerImage !== ""
    ? settings.gpuServerImage
    : settings.serverImage;
}

export function desiredChildren(input: DesiredInput): DesiredChildren {
  const { job, ref, settings, lifecycle } = input;
  const natsUrl = jobNatsUrl(job, settings.natsUrl);
  const hashes = configHashes(job);
  const running = !lifecycle.suspended && !lifecycle.terminal;
  const server = desiredDeployment({
    job,
    ref,
    image: serverImageFor(job, settings),
    imagePullPolicy: settings.imagePullPolicy,
    natsUrl,
    replicas: running ? job.spec.server.replicas : 0,
    configHash: hashes.server,
  });
  const pods = clientPods(input, hashes.client, natsUrl);
  return {
    apply: [
      desiredConfigMap(job, ref),
      desiredSecret(ref, natsUrl, input.jobKey),
      server,
      desiredService(ref),
      ...pods.apply,
    ],
    keep: pods.keep,
  };
}
