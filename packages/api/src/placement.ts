// Where the processes run: the edge clients (one pod each) and the GPU body server.
import { z } from "zod";
import {
  DNS_SUBDOMAIN,
  EnvVarsSchema,
  NodeSelectorSchema,
  ResourceRequirementsSchema,
  TolerationsSchema,
} from "./k8s.js";
import { countOrFraction } from "./count-or-fraction.js";
import { immutable, VALIDATIONS } from "./rules.js";

export const ClientsSchema = z
  .strictObject({
    count: z
      .int()
      .min(1)
      .max(10000)
      .default(4)
      .meta({
        description: "Number of clients; each holds one partition of the data and runs in its own pod.",
        [VALIDATIONS]: [immutable()],
      }),
    perRound: countOrFraction("spec.clients.count", "Clients selected to train in each round.").prefault({
      fraction: 1,
    }),
    nodeSelector: NodeSelectorSchema.optional(),
    tolerations: TolerationsSchema.optional(),
    resources: ResourceRequirementsSchema.optional(),
    env: EnvVarsSchema.optional(),
    spreadOnePerNode: z.boolean().default(false).meta({
      description:
        "Place at most one client pod per node (a hard topology spread on kubernetes.io/hostname).",
    }),
  })
  .meta({ description: "The edge clients: how many, how many train per round, and where their pods run." });

export const ServerSchema = z
  .strictObject({
    replicas: z.int().min(1).max(64).default(1).meta({
      description:
        "Body server replicas; they share the job's forward/backward requests through a NATS queue group.",
    }),
    gpus: z.int().min(0).max(16).default(0).meta({
      description:
        "GPUs each server replica requests (nvidia.com/gpu). With 0 the body runs on CPU: a server that asks for cuda (executionProvider's default) then falls back and says so in the CpuFallback condition.",
    }),
    executionProvider: z.enum(["cuda", "cpu"]).default("cuda").meta({
      description:
        "ONNX Runtime execution provider the server asks for first. cuda (the default) runs on CPU when CUDA cannot be used (see cpuFallback); cpu asks for the CPU, as a job without GPUs may.",
    }),
    cpuFallback: z.boolean().default(true).meta({
      description:
        "When cuda is not available, run on CPU and say so in the log and status; false fails the job instead.",
    }),
    nodeSelector: NodeSelectorSchema.optional(),
    tolerations: TolerationsSchema.optional(),
    resources: ResourceRequirementsSchema.optional(),
    env: EnvVarsSchema.optional(),
    runtimeClassName: z
      .string()
      .min(1)
      .max(253)
      .regex(DNS_SUBDOMAIN, {
        error: "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
      })
      .optional()
      .meta({
        description:
          "RuntimeClass of the server pods, for clusters whose GPU nodes need a named container runtime (k3s with the NVIDIA toolkit: nvidia). Unset: the cluster's default runtime.",
      }),
  })
  .meta({ description: "The server that runs the frozen body for all clients and coordinates the rounds." });

export type Clients = z.infer<typeof ClientsSchema>;
export type Server = z.infer<typeof ServerSchema>;
