// The SFPromptJob status, written by the operator only (status subresource) from its children and
// from the training progress events.
import { z } from "zod";

export const PHASES = ["Pending", "Running", "Suspended", "Succeeded", "Failed"] as const;
export type Phase = (typeof PHASES)[number];

/** Condition types the operator sets; `type` stays a free string as in metav1.Condition. */
export const CONDITION_TYPES = [
  "Created",
  "ServerReady",
  "ClientsReady",
  "Running",
  "Suspended",
  "Succeeded",
  "Failed",
  "CpuFallback",
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const ConditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .meta({ description: "Condition type, in CamelCase (e.g. Running, Succeeded)." }),
    status: z.enum(["True", "False", "Unknown"]).meta({ description: "Whether the condition holds." }),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .meta({ description: "Machine-readable CamelCase reason for the last transition." }),
    message: z.string().max(32768).meta({ description: "Human-readable details of the last transition." }),
    lastTransitionTime: z.iso.datetime().meta({ description: "When the status last changed (RFC 3339)." }),
    observedGeneration: z.int().min(0).optional().meta({
      description: "The .metadata.generation the condition was computed from.",
    }),
  })
  .meta({ description: "A condition in the shape of metav1.Condition." });

export const ClientStatusSchema = z
  .object({
    index: z.int().min(0).meta({ description: "Client index, 0-based." }),
    phase: z.enum(["Pending", "Running", "Succeeded", "Failed", "Unknown"]).meta({
      description: "Phase of the client's pod.",
    }),
    node: z.string().max(253).optional().meta({ description: "Node the client's pod runs on." }),
    samples: z.int().min(0).optional().meta({ description: "Samples in the client's partition." }),
    lastRound: z
      .int()
      .min(0)
      .optional()
      .meta({ description: "Last round whose update the server received from it." }),
  })
  .meta({ description: "State of one client." });

export const MetricsSchema = z
  .object({
    loss: z.number().optional().meta({ description: "Mean training loss of the last round." }),
    accuracy: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .meta({ description: "Held-out accuracy of the last evaluation, 0 to 1." }),
    bestAccuracy: z.number().min(0).max(1).optional().meta({ description: "Best held-out accuracy so far." }),
    bestRound: z.int().min(0).optional().meta({ description: "Round of the best accuracy." }),
  })
  .meta({ description: "Training and evaluation metrics." });

function bytes(what: string) {
  return z
    .int()
    .min(0)
    .default(0)
    .meta({ description: `Bytes of ${what} sent over NATS.`, format: "int64" });
}

export const CommunicationSchema = z
  .object({
    activationsUp: bytes("head activations, client → server"),
    activationsDown: bytes("body activations, server → client"),
    gradientsUp: bytes("gradients, client → server"),
    gradientsDown: bytes("gradients, server → client"),
    parametersUp: bytes("prompt and tail uploads, client → server"),
    parametersDown: bytes("global prompt and tail, server → client"),
    total: bytes("all kinds together"),
    totalHuman: z.string().max(32).optional().meta({ description: "total in human units, e.g. 12.3 MiB." }),
  })
  .meta({ description: "Bytes sent over NATS so far, payload and headers, by kind and direction." });

export const CheckpointSchema = z
  .object({
    round: z.int().min(0).meta({ description: "Round the checkpoint holds the global parameters after." }),
    object: z
      .string()
      .max(1024)
      .meta({ description: "Name of the checkpoint in the job's Object Store bucket." }),
  })
  .meta({ description: "The newest checkpoint." });

export const StatusSchema = z
  .object({
    phase: z
      .enum(PHASES)
      .optional()
      .meta({ description: "Where the job is: Pending, Running, Suspended, Succeeded or Failed." }),
    conditions: z
      .array(ConditionSchema)
      .max(32)
      .optional()
      .meta({
        description: "Observations of the job's state, one per type.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({ description: "The .metadata.generation this status reflects." }),
    round: z.int().min(0).optional().meta({ description: "Rounds completed." }),
    rounds: z.int().min(0).optional().meta({ description: "Rounds in total (spec.training.rounds)." }),
    progress: z.string().max(32).optional().meta({ description: "round/rounds, e.g. 3/10." }),
    clients: z
      .array(ClientStatusSchema)
      .max(10000)
      .optional()
      .meta({
        description: "Per-client state.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["index"],
      }),
    metrics: MetricsSchema.optional(),
    communication: CommunicationSchema.optional(),
    lastCheckpoint: CheckpointSchema.optional(),
    startTime: z.iso.datetime().optional().meta({ description: "When the job started running (RFC 3339)." }),
    completionTime: z.iso
      .datetime()
      .optional()
      .meta({ description: "When the job succeeded or failed (RFC 3339)." }),
    executionProvider: z.enum(["cuda", "cpu"]).optional().meta({
      description: "ONNX Runtime execution provider the server actually uses.",
    }),
  })
  .meta({ description: "The job's observed state, written by the operator." });

export type Condition = z.infer<typeof ConditionSchema>;
export type ClientStatus = z.infer<typeof ClientStatusSchema>;
export type Communication = z.infer<typeof CommunicationSchema>;
export type Status = z.infer<typeof StatusSchema>;
