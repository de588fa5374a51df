// Progress events of a job, as published on its JetStream stream and consumed by the operator into the
// SFPromptJob status. These schemas are the contract between the runtime and the operator.
import { z } from "zod";
import { EventSchemaError } from "./errors.js";
import { count, eventBase, EventBytesSchema, eventName, finite } from "./event-fields.js";
import { RunHistorySchema, RunResumedSchema } from "./resume-events.js";

export { EVENT_VERSION, EventBytesSchema, type EventBytes } from "./event-fields.js";
export * from "./resume-events.js";

export const RoundStartedSchema = z.object({
  ...eventBase,
  type: z.literal("round.started"),
  round: count,
  selected: z.array(eventName),
  deadline: z.iso.datetime({ offset: true }).optional(),
});

/** One participant's share of a finished round. */
export const RoundContributionSchema = z.object({
  client: eventName,
  /** |D_k|: the samples of the client's partition. */
  samples: count,
  /** Samples it trained on after EL2N pruning (equal to samples when the job does not prune). */
  kept: count,
});
export type RoundContribution = z.infer<typeof RoundContributionSchema>;

export const RoundFinishedSchema = z.object({
  ...eventBase,
  type: z.literal("round.finished"),
  round: count,
  /** Mean training loss of the round's split-training steps. */
  loss: finite,
  /** Held-out accuracy of the global parameters after aggregation, in [0, 1]. */
  accuracy: z.number().min(0).max(1),
  participants: z.array(eventName),
  /** Kept samples that contributed (sum of |D_k| after pruning). */
  samples: count,
  /**
   * Per participant: its |D_k| and the samples it kept after pruning (its FedAvg weight), as its
   * update reported them. Optional: older servers sent the sum only.
   */
  contributions: z.array(RoundContributionSchema).max(10_000).optional(),
  bytes: EventBytesSchema,
  durationMs: count,
});

export const RoundFailedSchema = z.object({
  ...eventBase,
  type: z.literal("round.failed"),
  round: count,
  /** Machine-readable, CamelCase (e.g. QuorumNotReached), as in a Kubernetes condition. */
  reason: z.string().min(1),
  message: z.string(),
});

export const CLIENT_STATES = [
  "pending",
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
export type ClientState = (typeof CLIENT_STATES)[number];

export const ClientStateChangedSchema = z.object({
  ...eventBase,
  type: z.literal("client.state"),
  client: eventName,
  state: z.enum(CLIENT_STATES),
  round: count.optional(),
  reason: z.string().optional(),
});

export const CheckpointWrittenSchema = z.object({
  ...eventBase,
  type: z.literal("checkpoint.written"),
  round: count,
  /** Object Store bucket and object name of the checkpoint. */
  bucket: z.string().min(1),
  object: z.string().min(1),
  size: count,
  digest: z.string().optional(),
});

export const JobFinishedSchema = z.object({
  ...eventBase,
  type: z.literal("job.finished"),
  rounds: count,
  loss: finite,
  accuracy: z.number().min(0).max(1),
  bytes: EventBytesSchema,
  /** Object name of the final prompt + tail in the artifact bucket. */
  artifact: z.string().optional(),
});

export const JobFailedSchema = z.object({
  ...eventBase,
  type: z.literal("job.failed"),
  reason: z.string().min(1),
  message: z.string(),
  round: count.optional(),
});

export const EXECUTION_PROVIDERS = ["cuda", "cpu"] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/**
 * The server process is up and has opened the body's ONNX Runtime session, so it knows which
 * execution provider it really runs on (CUDA asked for, CPU in fact, is the common surprise).
 * Published by every server replica when it starts; `instance` tells replicas apart.
 */
export const ServerReadySchema = z.object({
  ...eventBase,
  type: z.literal("server.ready"),
  /** The replica (pod name, or host name). */
  instance: z.string().min(1).max(253),
  executionProvider: z.object({
    requested: z.enum(EXECUTION_PROVIDERS),
    /** "none": this method runs no model on the server (federated baselines without evaluation). */
    actual: z.enum([...EXECUTION_PROVIDERS, "none"]),
  }),
  /** Why CUDA could not be used, when the server fell back to CPU (ONNX Runtime's message). */
  fallbackReason: z.string().max(4096).optional(),
});

export const ProgressEventSchema = z.discriminatedUnion("type", [
  ServerReadySchema,
  RoundStartedSchema,
  RoundFinishedSchema,
  RoundFailedSchema,
  ClientStateChangedSchema,
  CheckpointWrittenSchema,
  RunResumedSchema,
  RunHistorySchema,
  JobFinishedSchema,
  JobFailedSchema,
]);
export type ProgressEvent = z.infer<typeof ProgressEventSchema>;
export type ProgressEventType = ProgressEvent["type"];
export type RoundStarted = z.infer<typeof RoundStartedSchema>;
export type RoundFinished = z.infer<typeof RoundFinishedSchema>;
export type RoundFailed = z.infer<typeof RoundFailedSchema>;
export type ClientStateChanged = z.infer<typeof ClientStateChangedSchema>;
export type CheckpointWritten = z.infer<typeof CheckpointWrittenSchema>;
export type RunResumed = z.infer<typeof RunResumedSchema>;
export type RunHistory = z.infer<typeof RunHistorySchema>;
export type JobFinished = z.infer<typeof JobFinishedSchema>;
export type JobFailed = z.infer<typeof JobFailedSchema>;
export type ServerReady = z.infer<typeof ServerReadySchema>;

/** Validates `value` as a progress event; throws EventSchemaError naming the first bad field. */
export function parseEvent(value: unknown): ProgressEvent {
  const parsed = ProgressEventSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const v = value as { job?: unknown; type?: unknown; round?: unknown; client?: unknown } | null;
  const job = typeof v?.job === "string" ? v.job : undefined;
  const client = typeof v?.client === "string" ? v.client : undefined;
  const round = typeof v?.round === "number" ? v.round : undefined;
  throw new EventSchemaError(`event ${String(v?.type)} is invalid: ${issue.message}`, {
    frame: { job, client, round, kind: "event" },
    field: issue.path.join(".") || "event",
    cause: parsed.error,
  });
}
