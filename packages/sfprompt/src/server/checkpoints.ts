// Checkpoints of the global parameters in the job's Object Store (one object per round) with the
// optimizer-free round state and metrics history in their metadata, and their reading on resume.
import type { ObjectInfo } from "@nats-io/obj";
import {
  checkpointObjectName,
  isTransientNatsError,
  MAX_NAME_LENGTH,
  NAME_PATTERN,
  type ArtifactStore,
} from "@sfprompt/protocol";
import { z } from "zod";
import type { RunConfig } from "@sfprompt/api";
import { CheckpointError } from "../runtime/errors.js";
import { ParamSetCodecError, ParamSetMismatchError } from "../training/errors.js";
import { checkExpectedLayout, decodeParamSetWithMeta, encodeParamSet } from "../training/param-set-codec.js";
import { CheckpointSpecSchema, checkResumeSpec, startOverAdvice } from "./checkpoint-spec.js";
import { otherJobMessage } from "./bucket-advice.js";
import type { ParamSet } from "../training/param-set.js";

/** What the coordinator records per finished round (also the run result's rows). */
export const RoundMetricsSchema = z.object({
  round: z.number().int().min(1),
  loss: z.number(),
  localLoss: z.number().optional(),
  accuracy: z.number().nullable(),
  evalLoss: z.number().nullable(),
  participants: z.array(z.string()),
  selected: z.array(z.string()),
  samples: z.number().int(),
  kept: z.number().int(),
  /** Bytes the server sent (down) and received (up) in the round, by kind. */
  bytes: z.object({
    up: z.number().int(),
    down: z.number().int(),
    byKind: z.record(z.string(), z.number()),
    /** byKind split by direction (absent in checkpoints written before the split was kept). */
    upByKind: z.record(z.string(), z.number()).optional(),
    downByKind: z.record(z.string(), z.number()).optional(),
  }),
  /** Mean client FLOPs of the participants in the round. */
  clientFlops: z.number(),
  durationMs: z.number().int(),
  /**
   * When the round was aggregated (ISO 8601; absent in checkpoints of older servers): a round whose
   * progress event never went out (the server stopped right after checkpointing it) is dated by it.
   */
  finishedAt: z.string().optional(),
});
export type RoundMetrics = z.infer<typeof RoundMetricsSchema>;

export const CHECKPOINT_FORMAT = "sfprompt-checkpoint";

/**
 * The rounds a job took over from another job's checkpoint (spec.output.resumeFrom, ADR 0044): that
 * job's name and the round of its checkpoint; the history's rounds up to it are the source's.
 */
export const InheritedSchema = z.object({
  job: z.string(),
  round: z.number().int().min(1),
});
export type Inherited = z.infer<typeof InheritedSchema>;

const CheckpointMetaSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  job: z.string(),
  method: z.string(),
  round: z.number().int().min(1),
  history: z.array(RoundMetricsSchema),
  /** The spec fields the parameters depend on (absent in checkpoints of older servers). */
  spec: CheckpointSpecSchema.optional(),
  /**
   * The run attempt that wrote it, which a server resuming from it goes on under (ADR 0036); absent
   * in checkpoints of older servers, whose resumed runs publish events without one, as they did.
   */
  attempt: z.string().max(MAX_NAME_LENGTH).regex(NAME_PATTERN).optional(),
  /**
   * Set on every checkpoint of a job that went on from another job's (carried forward when it
   * resumes from its own): job.finished's totals count only the rounds after `round`. Absent in
   * checkpoints of jobs that did not, and of older servers.
   */
  inherited: InheritedSchema.optional(),
});
export type CheckpointMeta = z.infer<typeof CheckpointMetaSchema>;

/** Writes the checkpoint of `meta.round`; returns the object info. */
export function writeCheckpoint(
  store: ArtifactStore,
  params: ParamSet,
  meta: Omit<CheckpointMeta, "format">,
): Promise<ObjectInfo> {
  const bytes = encodeParamSet(params, { format: CHECKPOINT_FORMAT, ...meta });
  return store.put(checkpointObjectName(meta.round), bytes, `global parameters after round ${meta.round}`);
}

/** A checkpoint passed over on resume because it could not be read. */
export interface SkippedCheckpoint {
  readonly object: string;
  readonly reason: string;
}

/** The checkpoint a job resumes from, and the newer ones that could not be read. */
export interface ResumePoint {
  readonly params: ParamSet;
  readonly meta: CheckpointMeta;
  readonly object: string;
  /** Newer checkpoints passed over, newest first. */
  readonly skipped: SkippedCheckpoint[];
  /** Set when the checkpoint is another job's (spec.output.resumeFrom, ADR 0044): its name and bucket. */
  readonly source?: { readonly job: string; readonly bucket: string };
}

/** The checkpoint's object cannot be read or decoded: a fault of this copy, an older one may do. */
class UnreadableCheckpoint extends Error {}

/** The checkpoint's parameters and metadata, of any layout (null: deleted since it was listed). */
async function readCheckpoint(
  store: ArtifactStore,
  name: string,
): Promise<{ params: ParamSet; meta: CheckpointMeta } | null> {
  let bytes: Uint8Array | null;
  try {
    bytes = await store.get(name);
  } catch (cause) {
    // NATS away is no fault of the checkpoint and is thrown as it is; a digest that does not match
    // (chunks lost or damaged in the stream) is
    if (isTransientNatsError(cause)) throw cause;
    throw new UnreadableCheckpoint((cause as Error).message, { cause });
  }
  if (bytes === null) return null; // deleted since it was listed
  try {
    const { params, meta } = decodeParamSetWithMeta(bytes, { source: `checkpoint ${name}` });
    const parsed = CheckpointMetaSchema.safeParse(meta);
    if (!parsed.success)
      throw new UnreadableCheckpoint(
        `its metadata is not a checkpoint's (${parsed.error.issues[0]?.message})`,
      );
    return { params, meta: parsed.data };
  } catch (cause) {
    if (cause instanceof ParamSetCodecError) throw new UnreadableCheckpoint(cause.message, { cause });
    throw cause;
  }
}

/**
 * The metadata (round history, attempt, inherited rounds) of the checkpoint of `round`, for a reader
 * that needs its history and not its parameters, which are not checked against a model (`sfprompt
 * run` showing the rounds an earlier session's server trained: ADR 0041, amendment 3). Null when no
 * such checkpoint is stored; CheckpointError when it cannot be read or is no checkpoint.
 */
export async function readCheckpointMeta(
  store: ArtifactStore,
  round: number,
): Promise<CheckpointMeta | null> {
  const name = checkpointObjectName(round);
  try {
    return (await readCheckpoint(store, name))?.meta ?? null;
  } catch (cause) {
    if (cause instanceof UnreadableCheckpoint)
      throw new CheckpointError(name, `cannot be read: ${cause.message}`, { cause });
    throw cause;
  }
}

/**
 * The newest checkpoint that can be read, checked against the bundle's parameter `layout` and the
 * job's spec (ResumeMismatchError, CheckpointError), or null when there is none. Newer checkpoints
 * whose object is unreadable or corrupt are passed over and reported in `skipped`; one of another
 * model, job or spec is an error: an older checkpoint would not fit the job any better. `job` is the
 * token the checkpoints must carry: the job's own, or spec.output.resumeFrom's for its bucket.
 */
export async function readLatestCheckpoint(
  store: ArtifactStore,
  layout: ParamSet,
  config: RunConfig,
  job: string = config.names.job,
): Promise<ResumePoint | null> {
  // spec.output.resumeFrom's job's name when the store is that job's bucket (only read)
  const source = job === config.names.job ? undefined : config.output.resumeFrom?.job;
  const names = (await store.checkpointNames()).reverse();
  const skipped: SkippedCheckpoint[] = [];
  for (const name of names) {
    let read: { params: ParamSet; meta: CheckpointMeta } | null;
    try {
      read = await readCheckpoint(store, name);
    } catch (cause) {
      if (cause instanceof UnreadableCheckpoint) {
        skipped.push({ object: name, reason: cause.message });
        continue;
      }
      throw cause;
    }
    if (read === null) continue;
    const { meta } = read;
    // whose it is before its layout: another job's checkpoint (of any model) is refused as another
    // job's, naming the bucket, not as one to start over from
    if (meta.job !== job)
      throw new CheckpointError(name, otherJobMessage(meta.job, job, store.bucket, config));
    try {
      checkExpectedLayout(layout, read.params, `checkpoint ${name}`);
    } catch (cause) {
      if (cause instanceof ParamSetMismatchError)
        throw new CheckpointError(
          name,
          `does not fit this job's model (${cause.message}); ${startOverAdvice(source)}`,
          { cause },
        );
      throw cause;
    }
    checkResumeSpec(name, meta.round, meta, config, source);
    return { ...read, object: name, skipped };
  }
  if (skipped.length > 0)
    throw new CheckpointError(
      skipped[0]!.object,
      `no checkpoint of the job can be read (${skipped.map((s) => `${s.object}: ${s.reason}`).join("; ")}); ` +
        startOverAdvice(source),
    );
  return null;
}
