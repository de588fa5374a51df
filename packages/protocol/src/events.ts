// Progress events of a job, as published on its JetStream stream and consumed by the operator into the
// SFPromptJob status. These schemas are the contract between the runtime and the operator.
import { z } from "zod";
import { EventSchemaError } from "./errors.js";
import { NAME_PATTERN } from "./names.js";

export const EVENT_VERSION = 1;
const name = z.string().min(1).max(64).regex(NAME_PATTERN, "must be letters, digits, '-' or '_'");
const count = z.number().int().min(0);
const finite = z.number().refine(Number.isFinite, "must be a finite number");

const base = {
  v: z.literal(EVENT_VERSION),
  job: name,
  /** When the publisher observed the change (RFC 3339). */
  at: z.iso.datetime({ offset: true }),
  /**
   * The run attempt that published it: made when a server starts a job without a checkpoint to go on
   * from, kept in the checkpoints so that a resumed server goes on under it (ADR 0036). A new value
   * means the job started over: what consumers folded from the earlier attempt no longer holds.
   * Absent in events of older servers and of runs resumed from their checkpoints.
   */
  attempt: name.optional(),
  /**
   * The server start that published it (a token made each time a server process starts a job), so
   * that the rounds a resumed server runs again (those after its checkpoint) are not dropped as
   * repeats of the first run's, while one server retrying its own event still is. Absent in events
   * of older servers.
   */
  launch: name.optional(),
};

const kindBytes = z
  .object({ activation: count, gradient: count, parameters: count, control: count })
  .partial();

/**
 * Bytes of a round (or a whole job) as the server counted them: up = client -> server. byKind sums
 * both directions; upByKind/downByKind split it by direction (optional: older servers sent byKind
 * only).
 */
export const EventBytesSchema = z.object({
  up: count,
  down: count,
  byKind: kindBytes,
  upByKind: kindBytes.optional(),
  downByKind: kindBytes.optional(),
});
export type EventBytes = z.infer<typeof EventBytesSchema>;

export const RoundStartedSchema = z.object({
  ...base,
  type: z.literal("round.started"),
  round: count,
  selected: z.array(name),
  deadline: z.iso.datetime({ offset: true }).optional(),
});

/** One participant's share of a finished round. */
export const RoundContributionSchema = z.object({
  client: name,
  /** |D_k|: the samples of the client's partition. */
  samples: count,
  /** Samples it trained on after EL2N pruning (equal to samples when the job does not prune). */
  kept: count,
});
export type RoundContribution = z.infer<typeof RoundContributionSchema>;

export const RoundFinishedSchema = z.object({
  ...base,
  type: z.literal("round.finished"),
  round: count,
  /** Mean training loss of the round's split-training steps. */
  loss: finite,
  /** Held-out accuracy of the global parameters after aggregation, in [0, 1]. */
  accuracy: z.number().min(0).max(1),
  participants: z.array(name),
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
  ...base,
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
  ...base,
  type: z.literal("client.state"),
  client: name,
  state: z.enum(CLIENT_STATES),
  round: count.optional(),
  reason: z.string().optional(),
});

export const CheckpointWrittenSchema = z.object({
  ...base,
  type: z.literal("checkpoint.written"),
  round: count,
  /** Object Store bucket and object name of the checkpoint. */
  bucket: z.string().min(1),
  object: z.string().min(1),
  size: count,
  digest: z.string().optional(),
});

/**
 * The server goes on from a checkpoint instead of round 1 (ADR 0046): its own after a restart, or
 * another job's (spec.output.resumeFrom, ADR 0044). Published once per server start that resumes,
 * before its first round: consumers know at once where the run stands, not only when the next round
 * finishes. Not published by older servers, nor by a run that starts from the initial parameters.
 */
export const RunResumedSchema = z
  .object({
    ...base,
    type: z.literal("run.resumed"),
    /** The checkpoint's round: the rounds up to it are done, the run goes on with the next one. */
    round: z.number().int().min(1),
    /** Object Store bucket and object name of the checkpoint resumed from. */
    bucket: z.string().min(1),
    object: z.string().min(1),
    /**
     * Set when the checkpoint is another job's (spec.output.resumeFrom): that job's name and bucket.
     * Absent when the job resumes from a checkpoint of its own.
     */
    from: z.object({ job: z.string().min(1).max(253), bucket: z.string().min(1) }).optional(),
    /**
     * The rounds this job took over from another job (ADR 0044, amendment 2): rounds 1 to `round` were
     * trained by `job`. Set when it goes on from that job's checkpoint and on every restart after it
     * (carried in its checkpoints); absent for a job that trained all its rounds itself.
     */
    inherited: z.object({ job: z.string().min(1).max(253), round: z.number().int().min(1) }).optional(),
    /**
     * The checkpoint round's loss and accuracy as its round.finished gave them (accuracy: the last
     * evaluated one), from the checkpoint's round history, so that a consumer that did not see that
     * event (one that stopped as the round finished) can show them (ADR 0046, amendment 3). Absent
     * from older servers, and when the checkpoint's history lacks the round.
     */
    loss: finite.optional(),
    accuracy: z.number().min(0).max(1).optional(),
    /**
     * The best held-out accuracy of the job's own rounds up to the checkpoint's (not those `inherited`
     * from another job), each round's as its round.finished gave it, and the earliest round of it,
     * from the checkpoint's history: a consumer whose stream no longer holds those rounds keeps the
     * best of them (ADR 0046, amendment 5). Absent from older servers, and when the job trained none
     * of those rounds itself.
     */
    best: z.object({ round: z.number().int().min(1), accuracy: z.number().min(0).max(1) }).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.best !== undefined && e.best.round > e.round)
      ctx.addIssue({
        code: "custom",
        path: ["best", "round"],
        message: `is ${e.best.round}, past the checkpoint's round ${e.round}: the best is of the rounds up to it`,
      });
  });

/**
 * One round of the checkpoint's history in run.history (ADR 0046, amendment 6): the fields its
 * round.finished gave (accuracy: the last evaluated one for a round without evaluation; samples:
 * the kept samples), and when the round was aggregated (absent in checkpoints of older servers).
 */
export const HistoryRoundSchema = z.object({
  round: z.number().int().min(1),
  loss: finite,
  accuracy: z.number().min(0).max(1),
  participants: z.array(name),
  samples: count,
  bytes: EventBytesSchema,
  durationMs: count,
  finishedAt: z.iso.datetime({ offset: true }).optional(),
});
export type HistoryRound = z.infer<typeof HistoryRoundSchema>;

/**
 * The rounds up to the checkpoint a server goes on from, from the checkpoint's history (ADR 0046,
 * amendment 6), so that a consumer whose stream no longer holds their round.finished (a lost or
 * expired stream) can show them. History, not news: these rounds finished before this server
 * started, and consumers must not take them as rounds finished now. Published before run.resumed,
 * once per server start that resumes, split into events of ascending round ranges that each fit a
 * NATS message; only the job's own rounds (not those `inherited` from another job). Not published
 * by older servers.
 */
export const RunHistorySchema = z
  .object({
    ...base,
    type: z.literal("run.history"),
    /** The round of the checkpoint the server goes on from (run.resumed's `round`). */
    round: z.number().int().min(1),
    /** Rounds of the checkpoint's history, ascending, none past `round`. */
    rounds: z.array(HistoryRoundSchema).min(1).max(100_000),
  })
  .superRefine((e, ctx) => {
    e.rounds.forEach((r, i) => {
      if (r.round > e.round)
        ctx.addIssue({
          code: "custom",
          path: ["rounds", i, "round"],
          message: `is ${r.round}, past the checkpoint's round ${e.round}: the history is of the rounds up to it`,
        });
      else if (i > 0 && r.round <= e.rounds[i - 1]!.round)
        ctx.addIssue({
          code: "custom",
          path: ["rounds", i, "round"],
          message: `is ${r.round}, not after the round before it (${e.rounds[i - 1]!.round}): the rounds are ascending`,
        });
    });
  });

export const JobFinishedSchema = z.object({
  ...base,
  type: z.literal("job.finished"),
  rounds: count,
  loss: finite,
  accuracy: z.number().min(0).max(1),
  bytes: EventBytesSchema,
  /** Object name of the final prompt + tail in the artifact bucket. */
  artifact: z.string().optional(),
});

export const JobFailedSchema = z.object({
  ...base,
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
  ...base,
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

/**
 * A JetStream message id, so that an event a server publishes again (a retried publish whose ack was
 * lost) is deduplicated by the stream. The job's end happens once per attempt: a resumed server that
 * ends it again is a repeat. A round happens once per server start (`launch`): a resumed server runs
 * the rounds after its checkpoint again, and their new values must reach consumers; it says where it
 * resumed (run.resumed) once per start too. A run started
 * over (a new attempt) is never mistaken for a repeat of the one before it. Client state changes may
 * repeat and get none. Events without an attempt or launch keep the ids older servers gave them.
 */
export function eventDedupId(e: ProgressEvent): string | undefined {
  const scope = e.attempt === undefined ? e.job : `${e.job}:${e.attempt}`;
  switch (e.type) {
    case "client.state":
    case "server.ready":
      return undefined;
    case "job.finished":
    case "job.failed":
      return `${scope}:${e.type}`;
    case "run.history": {
      // one per server start and round range: the checkpoint's round and the range's first round
      const first = e.rounds[0]?.round ?? 0;
      return e.launch === undefined
        ? `${scope}:${e.type}:${e.round}:${first}`
        : `${scope}:${e.launch}:${e.type}:${e.round}:${first}`;
    }
    default:
      return e.launch === undefined
        ? `${scope}:${e.type}:${e.round}`
        : `${scope}:${e.launch}:${e.type}:${e.round}`;
  }
}
