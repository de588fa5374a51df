// What the operator's own configuration contributes to every job's children (images, the NATS URL,
// the edge-node label), as opposed to what the job's spec says.
import type { BackoffPolicy } from "../queue/backoff.js";

export interface ChildSettings {
  /** Image of the server process (coordinator + body service). */
  serverImage: string;
  /**
   * Server image for jobs that ask for GPUs (spec.server.gpus > 0): one with ONNX Runtime's CUDA
   * provider (images/Dockerfile ORT_INSTALL=pypi, ADR 0033). Empty: those jobs use serverImage too.
   */
  gpuServerImage: string;
  /** Image of the edge client process. */
  clientImage: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  /** NATS URL for jobs whose spec.transport.url is unset (the bundled NATS). */
  natsUrl: string;
  /**
   * Node label that marks edge nodes; client pods require it to exist on their node. Empty: no
   * default pinning (the user's spec.clients.nodeSelector still applies). See docs/adr (edge nodes).
   */
  edgeNodeLabel: string;
  /** Failed client pods are replaced up to `limit` times, after an exponential delay. */
  clientRestart: BackoffPolicy & { limit: number };
  /** How long a Succeeded job's client pods that have not exited are left to exit by themselves (ADR 0012). */
  finishedClientGraceMs: number;
}

export const DEFAULT_EDGE_NODE_LABEL = "node-role.kubernetes.io/edge";

export const DEFAULT_CHILD_SETTINGS: ChildSettings = {
  serverImage: "ghcr.io/sfprompt/server:0.1.0",
  gpuServerImage: "",
  clientImage: "ghcr.io/sfprompt/client:0.1.0",
  imagePullPolicy: "IfNotPresent",
  natsUrl: "nats://sfprompt-nats.sfprompt-system.svc:4222",
  edgeNodeLabel: DEFAULT_EDGE_NODE_LABEL,
  clientRestart: { limit: 3, baseMs: 10_000, maxMs: 300_000 },
  finishedClientGraceMs: 30_000,
};

/** Port of the processes' /healthz and /metrics endpoint. */
export const HEALTH_PORT = 8080;
/** Where the run config ConfigMap is mounted in every container. */
export const CONFIG_DIR = "/etc/sfprompt/config";
export const RUN_CONFIG_KEY = "run-config.json";
/** Where the job's Secret (and the user's credentials Secret, if any) is mounted. */
export const CREDENTIALS_DIR = "/etc/sfprompt/nats";
/** Where a model from a PersistentVolumeClaim or ConfigMap is mounted (read-only). */
export const MODEL_DIR = "/var/lib/sfprompt/model";
/** The file name a ConfigMap's model key is mounted as. */
export const MODEL_CONFIGMAP_FILE = "model.onnx";
