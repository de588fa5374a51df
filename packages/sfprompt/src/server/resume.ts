// Where a starting coordinator goes on from: the newest readable checkpoint that fits the job
// (output.resume true), or nothing, after removing the job's checkpoints (output.resume false).
import type { RunConfig } from "@sfprompt/api";
import type { ArtifactStore } from "@sfprompt/protocol";
import type { Logger } from "../runtime/logger.js";
import type { ParamSet } from "../training/param-set.js";
import { readLatestCheckpoint, removeCheckpoints, type ResumePoint } from "./checkpoints.js";

/** The checkpoint to resume from (null: start from the initial parameters), logged. */
export async function resumePoint(
  artifacts: ArtifactStore,
  layout: ParamSet,
  config: RunConfig,
  logger: Logger,
): Promise<ResumePoint | null> {
  if (!config.output.resume) {
    // starting over: a later crash must not resume from an older run's later rounds
    const removed = await removeCheckpoints(artifacts);
    if (removed > 0)
      logger.log("info", "checkpoints-removed", { count: removed, reason: "output.resume is false" });
    return null;
  }
  const point = await readLatestCheckpoint(artifacts, layout, config);
  if (point === null) return null;
  for (const s of point.skipped)
    logger.log("warn", "checkpoint-skipped", {
      checkpoint: s.object,
      reason: s.reason,
      resumingFrom: point.object,
      hint: "the checkpoint cannot be read; the rounds after the one resumed from are trained again",
    });
  logger.log("info", "resumed", {
    round: point.meta.round,
    checkpoint: point.object,
    ...(point.skipped.length > 0 ? { skipped: point.skipped.map((s) => s.object) } : {}),
  });
  return point;
}
