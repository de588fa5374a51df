// What the Failed condition says to do after the server failed the job: a Failed job ignores spec
// edits (ADR 0034), so the fix is a new job, which goes on from a checkpoint only where there is one
// (spec.output.resumeFrom, ADR 0044). Pure.
import type { Output } from "@sfprompt/api";
import type { ProgressSnapshot } from "../progress/snapshot.js";

/** The advice for a job that checkpointed: a new job can go on from this one's newest checkpoint. */
export const FAILED_IS_FINAL =
  "This job stays Failed and ignores spec edits from now on: create a new job with the fix, with " +
  "spec.output.resumeFrom.job naming this job to go on from its last checkpoint; keep this job until " +
  "the new one has checkpointed (deleting it deletes its checkpoints and events)";

const NO_CHECKPOINT =
  "This job stays Failed and ignores spec edits from now on: create a new job with the fix; this job " +
  "reported no checkpoint (status.lastCheckpoint is unset), so a new job naming it in " +
  "spec.output.resumeFrom.job would find none to go on from and fail";

/** The server's job.failed reason for a resumeFrom source without a checkpoint (sfprompt's ResumeSourceError). */
const RESUME_SOURCE_ERROR = "ResumeSourceError";

/**
 * The advice after the server's job.failed of `reason`, for a job that went on from `source`
 * (spec.output.resumeFrom; of an invalid spec, what of it reads). A job without a checkpoint of its own
 * cannot be gone on from; one that went on from a source's checkpoint can send the new job there
 * again, unless that source is what failed it (its bucket held no checkpoint).
 */
export function failedAdvice(
  source: Output["resumeFrom"],
  progress: ProgressSnapshot | undefined,
  reason: string,
): string {
  if (progress?.lastCheckpoint !== undefined) return FAILED_IS_FINAL;
  if (source === undefined || reason === RESUME_SOURCE_ERROR) return NO_CHECKPOINT;
  const bucket = source.bucket === undefined ? "" : ` (with spec.output.resumeFrom.bucket ${source.bucket})`;
  return (
    `${NO_CHECKPOINT}: name job ${source.job} there instead${bucket}, as this job did, to go on from ` +
    `its checkpoint; keep ${source.job} until the new job has checkpointed`
  );
}
