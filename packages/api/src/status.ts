// The SFPromptJob status, written by the operator only (status subresource) from its children and
// from the training progress events.
import { z } from "zod";

/**
 * An RFC 3339 date-time, in UTC (`Z`) or with an offset (`+01:00`, as `date -Iseconds` prints), as
 * Kubernetes' own timestamps are read; the CRD carries zod's pattern, so both accept the same strings.
 */
function dateTime(): z.ZodISODateTime {
  return z.iso.datetime({ offset: true });
}

export const PHASES = ["Pending", "Running", "Suspended", "Succeeded", "Failed"] as const;
export type Phase = (typeof PHASES)[number];

/** Condition types the operator sets; `type` stays a free string as in metav1.Condition. */
export const CONDITION_TYPES = [
  "Created",
  "ServerReady",
  "ClientsReady",
  "ClientsConfigCurrent",
  "Running",
  "Suspended",
  "Succeeded",
  "Failed",
  "CpuFallback",
  "SpecRejected",
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const ConditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .meta({
        description: `Condition type; the operator sets ${CONDITION_TYPES.join(", ")} (docs/operator.md says when each holds).`,
      }),
    status: z.enum(["True", "False", "Unknown"]).meta({ description: "Whether the condition holds." }),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .meta({ description: "Machine-readable CamelCase reason for the last transition." }),
    message: z.string().max(32768).meta({ description: "Human-readable details of the last transition." }),
    lastTransitionTime: dateTime().meta({ description: "When the status last changed (RFC 3339)." }),
    observedGeneration: z.int().min(0).optional().meta({
      description: "The .metadata.generation the condition was computed from.",
    }),
  })
  .meta({ description: "A condition in the shape of metav1.Condition." });

/**
 * What a client is doing: `pending` (no pod running yet), `running` (its pod runs, no report yet),
 * then the states the client process reports over NATS (the protocol's client.state values), and
 * `failed` / `done` from its pod when it ends. Lower-case and hyphenated as the protocol writes them.
 */
export const CLIENT_STATUS_STATES = [
  "pending",
  "running",
  "connected",
  "local-update",
  "pruning",
  "split-training",
  "uploading",
  "idle",
  "lost",
  "failed",
  "done",
] as const;
export type ClientStatusState = (typeof CLIENT_STATUS_STATES)[number];

export const ClientStatusSchema = z
  .object({
    index: z.int().min(0).meta({ description: "Client index, 0-based." }),
    phase: z.enum(["Pending", "Running", "Succeeded", "Failed", "Unknown"]).meta({
      description: "Phase of the client's current pod (Failed while it waits to be replaced).",
    }),
    state: z.enum(CLIENT_STATUS_STATES).optional().meta({
      description:
        "What the client is doing: pending, running (pod up, nothing reported yet), then what the client reports (connected, local-update, pruning, split-training, uploading, idle), lost (the server stopped hearing from it), failed or done.",
    }),
    reason: z
      .string()
      .max(1024)
      .optional()
      .meta({ description: "Why the client is in its state, when it said (e.g. the error of a failure)." }),
    restarts: z.int().min(0).optional().meta({
      description:
        "Times the operator replaced the client's pod after it failed (at most the operator's --client-restart-limit).",
    }),
    pod: z.string().max(253).optional().meta({ description: "Name of the client's current pod." }),
    node: z.string().max(253).optional().meta({ description: "Node the client's pod runs on." }),
    samples: z.int().min(0).optional().meta({
      description:
        "Samples in the client's partition (|D_k|), as its update of the last round it took part in reported them.",
    }),
    kept: z.int().min(0).optional().meta({
      description:
        "Samples the client trained on in that round, after EL2N pruning (equal to samples when the job does not prune).",
    }),
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
    .optional()
    .meta({ description: `Bytes of ${what} sent over NATS.`, format: "int64" });
}

export const CommunicationSchema = z
  .object({
    total: bytes("all kinds, both directions"),
    totalHuman: z.string().max(32).optional().meta({ description: "total in human units, e.g. 12.3 MiB." }),
    up: bytes("all kinds, client → server"),
    down: bytes("all kinds, server → client"),
    activationsUp: bytes("head activations, client → server"),
    activationsDown: bytes("body activations, server → client"),
    gradientsUp: bytes("gradients of the body output, client → server"),
    gradientsDown: bytes("gradients of the head output, server → client"),
    parametersUp: bytes("prompt and tail uploads, client → server"),
    parametersDown: bytes("global prompt and tail, server → client"),
    controlUp: bytes("control messages (registration, polls, reports), client → server"),
    controlDown: bytes("control replies, server → client"),
  })
  .meta({
    description:
      "Bytes sent over NATS so far (frame headers and payload), as the server counted them: in total, by direction, and by kind and direction. Kind fields are absent when the server did not report the split.",
  });

export const SERVER_EXECUTION_PROVIDERS = ["cuda", "cpu", "none"] as const;

export const ServerStatusSchema = z
  .object({
    availableReplicas: z
      .int()
      .min(0)
      .optional()
      .meta({ description: "Server replicas available (from the server Deployment)." }),
    requestedExecutionProvider: z.enum(["cuda", "cpu"]).optional().meta({
      description: "ONNX Runtime execution provider the server asked for (spec.server.executionProvider).",
    }),
    executionProvider: z.enum(SERVER_EXECUTION_PROVIDERS).optional().meta({
      description:
        "Execution provider the server actually runs the body on, as it reported when it started; none: this method runs no model on the server.",
    }),
    fallbackReason: z.string().max(4096).optional().meta({
      description: "Why CUDA could not be used, when the server fell back to CPU (ONNX Runtime's message).",
    }),
    instance: z.string().max(253).optional().meta({ description: "The server replica that reported last." }),
    readyTime: dateTime()
      .optional()
      .meta({ description: "When that replica reported it was ready (RFC 3339)." }),
  })
  .meta({ description: "The body server: its replicas and the execution provider it runs on." });

export const CheckpointSchema = z
  .object({
    round: z.int().min(0).meta({ description: "Round the checkpoint holds the global parameters after." }),
    object: z
      .string()
      .max(1024)
      .meta({ description: "Name of the checkpoint in the job's Object Store bucket." }),
  })
  .meta({ description: "The newest checkpoint." });

export const ResumedFromSchema = z
  .object({
    job: z.string().max(253).meta({ description: "The job whose checkpoint this job went on from." }),
    round: z
      .int()
      .min(1)
      .meta({ description: "That checkpoint's round: rounds 1 to it were trained by that job." }),
  })
  .meta({
    description:
      "Set when this job went on from another job's checkpoint (spec.output.resumeFrom): status.round counts from that job's round, while status.communication and metrics count only this job's own rounds.",
  });

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
    message: z.string().max(1024).optional().meta({
      description:
        "Why the job is not progressing, in one line (kubectl get -o wide's MESSAGE): the first of a child the API server refused (Created), a held spec edit (SpecRejected), the server not available (ServerReady), clients not running (ClientsReady), each as its condition says, cut to 300 characters (kubectl describe has the whole); or why it finished or is suspended. Unset while it trains with the server available and every client running.",
    }),
    resumedFrom: ResumedFromSchema.optional(),
    clients: z
      .array(ClientStatusSchema)
      .max(10000)
      .optional()
      .meta({
        description: "Per-client state.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["index"],
      }),
    clientRevision: z.string().max(64).optional().meta({
      description:
        "Digest of what client pods are made from now (their run config and pod spec); an edit they do not read (server.replicas, the TTL) leaves it. Unset once finished.",
    }),
    server: ServerStatusSchema.optional(),
    metrics: MetricsSchema.optional(),
    communication: CommunicationSchema.optional(),
    lastCheckpoint: CheckpointSchema.optional(),
    natsUrls: z.array(z.string().max(2048)).max(16).optional().meta({
      description:
        "NATS URLs the job has used, oldest first (spec.transport.url, or the operator's NATS when unset): on deletion the operator removes the job's streams at each, also at one the spec no longer names.",
    }),
    startTime: dateTime().optional().meta({ description: "When the job started running (RFC 3339)." }),
    completionTime: dateTime()
      .optional()
      .meta({ description: "When the job succeeded or failed (RFC 3339)." }),
  })
  .meta({ description: "The job's observed state, written by the operator." });

export type Condition = z.infer<typeof ConditionSchema>;
export type ClientStatus = z.infer<typeof ClientStatusSchema>;
export type Communication = z.infer<typeof CommunicationSchema>;
export type ServerStatus = z.infer<typeof ServerStatusSchema>;
export type Status = z.infer<typeof StatusSchema>;
export type ResumedFrom = z.infer<typeof ResumedFromSchema>;
