// A new `sfprompt run` session's clean start on its NATS: the job's stream and state go, and its
// objects in a bucket spec.output.bucket named (ADR 0045); never another job's checkpoints, nor
// anything in a bucket another job's owner object marks (ADR 0045, second amendment).
import type { RunConfig } from "@sfprompt/api";
import { checkBucketOwner, checkOwnCheckpoints } from "@sfprompt/core";
import { deleteJobResources, openExistingArtifactStore } from "@sfprompt/protocol";
import type { NatsConnection } from "@nats-io/transport-node";

/** What the refusal's message says made the job start over. */
const STARTING_OVER = "a new sfprompt run session (--fresh, or a run folder without this job's run)";

/**
 * Deletes the job's resources at `nc` so that the session starts clean, keeping a named bucket.
 * Checkpoint names carry no job: when the bucket holds another job's checkpoint (two jobs naming one
 * spec.output.bucket) the session is refused with CheckpointError, naming the bucket and the field,
 * before anything is deleted; a bucket whose owner object names another job is refused with
 * BucketOwnerError (its final/ and bundle/ objects carry no job). The server marks the bucket.
 */
export async function startClean(nc: NatsConnection, config: RunConfig): Promise<void> {
  const store = await openExistingArtifactStore(nc, config.names.bucket);
  if (store !== null) {
    await checkBucketOwner(store, config, STARTING_OVER);
    await checkOwnCheckpoints(store, config, STARTING_OVER);
  }
  await deleteJobResources(nc, config.names, { emptyNamedBucket: true });
}
