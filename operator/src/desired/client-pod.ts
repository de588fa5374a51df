// One Pod per client, pinned to edge nodes, with its index and data location in env. Pods use
// restartPolicy Never: a failed client is replaced by the operator (restart-plan.ts), which keeps the
// count and the backoff visible instead of hiding them in a kubelet's CrashLoopBackOff.
import type { V1Affinity, V1EnvVar, V1Pod, V1PodSpec } from "@kubernetes/client-node";
import type { DataSource, SFPromptJob } from "@sfprompt/api";
import {
  ANNOTATION_CONFIG_HASH,
  ANNOTATION_JOB_NAME,
  ANNOTATION_POD_SPEC_HASH,
  ANNOTATION_RESTARTS,
  LABEL_CLIENT_INDEX,
  childLabels,
  childNames,
  digest,
} from "../names.js";
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

export interface ClientPodInput {
  job: SFPromptJob;
  ref: JobRef;
  index: number;
  /** Restart attempt: 0 for the first pod, n for the n-th replacement. */
  attempt: number;
  image: string;
  imagePullPolicy: string;
  natsUrl: string;
  edgeNodeLabel: string;
  /** Digest of the run config the clients read (config-hash.ts): a record, pods are not replaced for it. */
  configHash: string;
}

/** The data source as one env value: `builtin:mnist`, `imageFolder:/data/x`, `jsonl:/data/x.jsonl`. */
export function dataLocation(source: DataSource): string {
  if (source.builtin) return `builtin:${source.builtin}`;
  if (source.imageFolder) return `imageFolder:${source.imageFolder.path}`;
  if (source.jsonl) return `jsonl:${source.jsonl.path}`;
  return "none";
}

function affinity(input: ClientPodInput, labels: Record<string, string>): V1Affinity | undefined {
  const out: V1Affinity = {};
  if (input.edgeNodeLabel) {
    out.nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: input.edgeNodeLabel, operator: "Exists" }] }],
      },
    };
  }
  if (input.job.spec.clients.spreadOnePerNode) {
    // A hard anti-affinity on the hostname is the only way to say "at most one per node": a topology
    // spread with maxSkew 1 still allows two per node once every node has one.
    out.podAntiAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: labels } },
      ],
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function clientEnv(input: ClientPodInput): V1EnvVar[] {
  const { job, ref, index } = input;
  return [
    ...commonEnv(job, ref, input.natsUrl),
    { name: "SFPROMPT_CLIENT_INDEX", value: String(index) },
    { name: "SFPROMPT_CLIENT_COUNT", value: String(job.spec.clients.count) },
    { name: "SFPROMPT_DATA_SOURCE", value: dataLocation(job.spec.data.source) },
    { name: "SFPROMPT_RESTART_ATTEMPT", value: String(input.attempt) },
    { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ...modelMount(job).env,
    // the user's last, so their $(NAME) can refer to ours (the API refuses our names)
    ...userEnv(job.spec.clients.env),
  ];
}

export function desiredClientPod(input: ClientPodInput): V1Pod {
  const { job, ref, index } = input;
  const clients = job.spec.clients;
  const spreadLabels = childLabels(ref.name, "client");
  const labels = { ...spreadLabels, [LABEL_CLIENT_INDEX]: String(index) };
  const data = nodeDataMount(job.spec.data.source, "data");
  const model = modelMount(job);
  const podAffinity = affinity(input, spreadLabels);
  const spec: V1PodSpec = {
    restartPolicy: "Never",
    automountServiceAccountToken: false,
    ...(clients.nodeSelector ? { nodeSelector: clients.nodeSelector } : {}),
    ...(clients.tolerations ? { tolerations: clients.tolerations } : {}),
    ...(podAffinity ? { affinity: podAffinity } : {}),
    volumes: [...jobVolumes(job, ref), ...data.volumes, ...model.volumes],
    containers: [
      {
        name: "client",
        image: input.image,
        imagePullPolicy: input.imagePullPolicy,
        env: clientEnv(input),
        ports: [{ name: "health", containerPort: HEALTH_PORT }],
        livenessProbe: healthProbe(15, 4),
        // Ready (kubectl's READY column) once connected to NATS with its bundle and shard loaded.
        readinessProbe: healthProbe(10, 3, "/readyz"),
        // Edge devices are small: ask for little, cap memory so one client cannot starve its node.
        resources: resources(clients.resources, {
          requests: { cpu: "100m", memory: "256Mi" },
          limits: { memory: "1Gi" },
        }),
        volumeMounts: [...JOB_VOLUME_MOUNTS, ...data.mounts, ...model.mounts],
        securityContext: CONTAINER_SECURITY,
      },
    ],
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: childNames(ref.name).clientPod(index, input.attempt),
      namespace: ref.namespace,
      labels,
      // the job's name is no part of either digest: a pod from before it was annotated is not stale
      annotations: {
        [ANNOTATION_JOB_NAME]: ref.name,
        [ANNOTATION_RESTARTS]: String(input.attempt),
        [ANNOTATION_CONFIG_HASH]: input.configHash,
        [ANNOTATION_POD_SPEC_HASH]: digest(JSON.stringify(spec)),
      },
      ownerReferences: [ownerReference(ref)],
    },
    spec,
  };
}

/**
 * A digest of what every client pod is made from now: the two digests of client 0's first pod. The
 * index and the attempt enter every pod's spec the same way, so it changes exactly when some client's
 * pod would change (ClientsConfigCurrent compares each running pod with its own).
 */
export function clientRevision(input: Omit<ClientPodInput, "index" | "attempt">): string {
  const a = desiredClientPod({ ...input, index: 0, attempt: 0 }).metadata?.annotations ?? {};
  return digest(`${a[ANNOTATION_CONFIG_HASH]}/${a[ANNOTATION_POD_SPEC_HASH]}`);
}
