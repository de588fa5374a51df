// Where a starting coordinator goes on from: the newest readable checkpoint that fits the job
// (output.resume true), else spec.output.resumeFrom's job's newest (ADR 0044), or nothing, after
// removing the job's own checkpoints (output.resume false; another job's refuse it, ADR 0045); and
// the attempt the run goes on under (the checkpoint's, or a new one when it starts over or starts
// from another job's). The job's bucket's owner marker is checked first, and written once the
// bucket's checkpoints were found the job's own (ADR 0045, second amendment).
import { randomBytes } from "node:crypto";
import type { RunConfig } from "@sfprompt/api";
import { BUCKET_OWNER_OBJECT, type ArtifactStore } from "@sfprompt/protocol";
import { ResumeSourceError } from "../runtime/errors.js";
import type { Logger } from "../runtime/logger.js";
import type { ParamSet } from "../training/param-set.js";
import { readLatestCheckpoint, type Inherited, type ResumePoint } from "./checkpoints.js";
import { checkBucketOwner, claimJobBucket } from "./bucket-claim.js";
import { removeOwnCheckpoints } from "./start-over.js";

/** Opens another job's artifact bucket to read (null: no such bucket). */
export type OpenBucket = (bucket: string) => Promise<ArtifactStore | null>;

/** What a starting-over job's refusals say made it start over. */
const START_OVER = "spec.output.resume: false";

/**
 * The checkpoint to resume from (null: start from the initial parameters), logged, once the job's
 * bucket is its own: a bucket another job marked refuses the job before anything is read or
 * deleted (BucketOwnerError). The job marks an unmarked bucket only after its checkpoints were
 * found its own, so a bucket from before owner objects holding another job's checkpoints is
 * refused as before (CheckpointError) and stays unmarked, still that job's.
 */
export async function resumePoint(
  artifacts: ArtifactStore,
  layout: ParamSet,
  config: RunConfig,
  logger: Logger,
  openBucket: OpenBucket,
): Promise<ResumePoint | null> {
  await checkBucketOwner(artifacts, config, config.output.resume ? undefined : START_OVER);
  const point = await findPoint(artifacts, layout, config, logger, openBucket);
  if ((await claimJobBucket(artifacts, config)) === "claimed")
    logger.log("info", "bucket-claimed", { bucket: artifacts.bucket, object: BUCKET_OWNER_OBJECT });
  return point;
}

async function findPoint(
  artifacts: ArtifactStore,
  layout: ParamSet,
  config: RunConfig,
  logger: Logger,
  openBucket: OpenBucket,
): Promise<ResumePoint | null> {
  if (!config.output.resume) {
    // starting over: a later crash must not resume from an older run's later rounds; another job's
    // checkpoints in the bucket (one spec.output.bucket named by two jobs) refuse it (ADR 0045)
    const removed = await removeOwnCheckpoints(artifacts, config, START_OVER);
    if (removed.count > 0)
      logger.log("info", "checkpoints-removed", {
        count: removed.count,
        reason: "output.resume is false",
        ...(removed.unreadable.length > 0 ? { unreadable: removed.unreadable } : {}),
      });
    return null;
  }
  const own = await readLatestCheckpoint(artifacts, layout, config);
  // a checkpoint of its own wins: resumeFrom only seeds a job that has none yet
  const point = own ?? (await sourcePoint(layout, config, openBucket));
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
    ...(point.source ? { from: point.source.job, bucket: point.source.bucket } : {}),
    ...(point.skipped.length > 0 ? { skipped: point.skipped.map((s) => s.object) } : {}),
  });
  return point;
}

/** spec.output.resumeFrom's newest readable checkpoint; null when the job sets none. */
async function sourcePoint(
  layout: ParamSet,
  config: RunConfig,
  openBucket: OpenBucket,
): Promise<ResumePoint | null> {
  const from = config.output.resumeFrom;
  if (from === undefined) return null;
  const store = await openBucket(from.bucket);
  if (store === null)
    throw new ResumeSourceError(from.job, from.bucket, `its bucket ${from.bucket} does not exist`);
  const point = await readLatestCheckpoint(store, layout, config, from.token);
  if (point === null)
    throw new ResumeSourceError(from.job, from.bucket, `its bucket ${from.bucket} holds no checkpoint`);
  return { ...point, source: { job: from.job, bucket: from.bucket } };
}

/**
 * The attempt a run goes on under (ADR 0036): the one its checkpoint was written under, so that a
 * resumed server's repeated events are duplicates of the ones before; a new one when it starts
 * without a checkpoint (output.resume false, none written yet, a job started again after a failure),
 * so that its events are not taken for repeats of an earlier run's. A checkpoint of an older server
 * has none: the run goes on without one, as that server published its events. Another job's
 * checkpoint (resumeFrom) gets a new one: its attempt names that job's run, not this one's.
 */
export function runAttempt(point: ResumePoint | null): string | undefined {
  return point === null || point.source !== undefined ? randomBytes(8).toString("hex") : point.meta.attempt;
}

/**
 * The rounds a run took over from another job (ADR 0044, amendment 2): the source's checkpoint
 * round when it goes on from one, else what its own checkpoint carried forward (a restart).
 */
export function inheritedRounds(point: ResumePoint | null): Inherited | undefined {
  if (point === null) return undefined;
  if (point.source !== undefined) return { job: point.source.job, round: point.meta.round };
  return point.meta.inherited;
}
