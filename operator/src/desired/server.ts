// The server Deployment (coordinator + frozen body, on a GPU node when asked) and its Service.
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import type { SFPromptJob } from "@sfprompt/api";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_JOB_NAME, childLabels, childNames } from "../names.js";
import { ownerReference, type JobRef } from "./owner.js";
import {
  CONTAINER_SECURITY,
  JOB_VOLUME_MOUNTS,
  commonEnv,
  healthProbe,
  jobVolumes,
  modelMount,
  nodeDataMount,
  resources,
  userEnv,
} from "./pod-parts.js";
import { HEALTH_PORT } from "./settings.js";

export const GPU_RESOURCE = "nvidia.com/gpu";

export interface ServerInput {
  job: SFPromptJob;
  ref: JobRef;
  image: string;
  imagePullPolicy: string;
  natsUrl: string;
  /** 0 while suspended or finished. */
  replicas: number;
  /** Digest of the run config the server reads (config-hash.ts), so a changed config rolls the server. */
  configHash: string;
}

export function desiredDeployment(input: ServerInput): V1Deployment {
  const { job, ref } = input;
  const server = job.spec.server;
  const labels = childLabels(ref.name, "server");
  const gpu: Record<string, string> = server.gpus > 0 ? { [GPU_RESOURCE]: String(server.gpus) } : {};
  const model = modelMount(job);
  // the held-out set the server evaluates on, on its node (it reads spec.data.evalSource only while
  // evaluation is on; a hostPath of type File or Directory that is not there keeps the pod from starting)
  const evaluates = job.spec.training.evaluation.everyRounds > 0;
  const evalData = nodeDataMount(evaluates ? job.spec.data.evalSource : undefined, "eval-data");
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: childNames(ref.name).deployment,
      namespace: ref.namespace,
      labels,
      ownerReferences: [ownerReference(ref)],
    },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: { [ANNOTATION_JOB_NAME]: ref.name, [ANNOTATION_CONFIG_HASH]: input.configHash },
        },
        spec: {
          automountServiceAccountToken: false,
          ...(server.nodeSelector ? { nodeSelector: server.nodeSelector } : {}),
          ...(server.tolerations ? { tolerations: server.tolerations } : {}),
          ...(server.runtimeClassName ? { runtimeClassName: server.runtimeClassName } : {}),
          volumes: [...jobVolumes(job, ref), ...evalData.volumes, ...model.volumes],
          containers: [
            {
              name: "server",
              image: input.image,
              imagePullPolicy: input.imagePullPolicy,
              env: [
                ...commonEnv(job, ref, input.natsUrl),
                { name: "SFPROMPT_EXECUTION_PROVIDER", value: server.executionProvider },
                // A Deployment restarts a container that exits 0: the finished server waits to be scaled down.
                { name: "SFPROMPT_LINGER_AFTER_FINISH", value: "true" },
                ...model.env,
                // the user's last, so their $(NAME) can refer to ours (the API refuses our names)
                ...userEnv(server.env),
              ],
              ports: [{ name: "health", containerPort: HEALTH_PORT }],
              // /healthz answers from the start; /readyz once NATS is connected and the model loaded
              // (splitting a large model takes minutes), so only a ready replica is "available".
              startupProbe: healthProbe(5, 60),
              livenessProbe: healthProbe(10, 3),
              readinessProbe: healthProbe(5, 3, "/readyz"),
              resources: resources(server.resources, { requests: { cpu: "500m", memory: "1Gi" } }, gpu),
              volumeMounts: [...JOB_VOLUME_MOUNTS, ...evalData.mounts, ...model.mounts],
              securityContext: CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
}

export function desiredService(ref: JobRef): V1Service {
  const labels = childLabels(ref.name, "server");
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: childNames(ref.name).service,
      namespace: ref.namespace,
      labels,
      ownerReferences: [ownerReference(ref)],
    },
    spec: {
      selector: labels,
      ports: [{ name: "health", port: HEALTH_PORT, targetPort: "health" }],
    },
  };
}
