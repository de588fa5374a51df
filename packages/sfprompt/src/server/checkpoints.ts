// Checkpoints of the global parameters in the job's Object Store (one object per round) with the
// optimizer-free round state and metrics history in their metadata, and their reading on resume.
import type { ObjectInfo } from "@nats-io/obj";
import { checkpointObjectName, type ArtifactStore } from "@sfprompt/protocol";
import { z } from "zod";
import { CheckpointError } from "../runtime/errors.js";
import { decodeParamSetWithMeta, encodeParamSet } from "../training/param-set-codec.js";
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
});
export type RoundMetrics = z.infer<typeof RoundMetricsSchema>;

export const CHECKPOINT_FORMAT = "sfprompt-checkpoint";

const CheckpointMetaSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  job: z.string(),
  method: z.string(),
  round: z.number().int().min(1),
  history: z.array(RoundMetricsSchema),
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

/** The latest checkpoint (parameters checked against `layout`), or null when none exists. */
export async function readLatestCheckpoint(
  store: ArtifactStore,
  layout: ParamSet,
  job: string,
): Promise<{ params: ParamSet; meta: CheckpointMeta; object: string } | null> {
  const latest = await store.latestCheckpoint();
  if (latest === null) return null;
  const bytes = await store.get(latest.name);
  if (bytes === null) return null;
  try {
    const { params, meta } = decodeParamSetWithMeta(bytes, {
      expect: layout,
      source: `checkpoint ${latest.name}`,
    });
    const m = CheckpointMetaSchema.parse(meta);
    if (m.job !== job) throw new CheckpointError(latest.name, `belongs to job ${m.job}, not ${job}`);
    return { params, meta: m, object: latest.name };
  } catch (cause) {
    if (cause instanceof CheckpointError) throw cause;
    throw new CheckpointError(
      latest.name,
      `cannot be resumed from (${(cause as Error).message}); set output.resume: false to start over`,
      { cause },
    );
  }
}

/** Deletes every checkpoint of the job (a run with output.resume false starts over); returns how many. */
export async function removeCheckpoints(store: ArtifactStore): Promise<number> {
  const names = (await store.names()).filter((n) => n.startsWith("checkpoints/"));
  for (const n of names) await store.store.delete(n);
  return names.length;
}
