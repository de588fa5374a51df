// A job marks the artifact bucket it writes as its own (the bucket's owner object) and refuses one
// that another job marked: final/ and bundle/ objects carry no job, so two jobs naming one
// spec.output.bucket would overwrite each other's before either has a checkpoint (ADR 0045, second
// amendment).
import type { RunConfig } from "@sfprompt/api";
import {
  BUCKET_OWNER_OBJECT,
  claimBucket,
  namesBucket,
  readBucketOwner,
  type ArtifactStore,
  type BucketOwner,
} from "@sfprompt/protocol";
import { BucketOwnerError } from "../runtime/errors.js";

/**
 * Refuses (BucketOwnerError) a bucket whose owner object names another job or cannot be read; a
 * bucket without one (new, or from before owner objects) passes. Writes nothing. `startingOver`
 * says what would have deleted objects ("spec.output.resume: false"), for the message.
 */
export async function checkBucketOwner(
  store: ArtifactStore,
  config: RunConfig,
  startingOver?: string,
): Promise<void> {
  const owner = await readBucketOwner(store);
  if (owner.kind === "none") return;
  if (owner.kind === "job" && owner.job === config.names.job) return;
  throw ownerError(store, config, owner, startingOver);
}

/**
 * Marks the bucket as the job's where no owner object is there (create-if-absent: of two jobs racing
 * for an unmarked bucket one wins, the other is refused); refuses as checkBucketOwner does.
 */
export async function claimJobBucket(store: ArtifactStore, config: RunConfig): Promise<"claimed" | "own"> {
  const claim = await claimBucket(store, config.names.job);
  if (claim.kind === "claimed" || claim.kind === "own") return claim.kind;
  throw ownerError(store, config, claim.kind === "other" ? { kind: "job", job: claim.owner } : claim);
}

/** A marker that refuses the job: another job's, or one that cannot be read. */
type Refusing = Exclude<BucketOwner, { kind: "none" }>;

function ownerError(
  store: ArtifactStore,
  config: RunConfig,
  found: Refusing,
  startingOver?: string,
): BucketOwnerError {
  const kept = startingOver === undefined ? "" : `; ${startingOver} deleted nothing`;
  const bucket = store.bucket;
  const marker = `nats object rm ${bucket} ${BUCKET_OWNER_OBJECT}`;
  if (found.kind === "unreadable")
    return new BucketOwnerError(
      bucket,
      undefined,
      `the bucket ${bucket}'s ${BUCKET_OWNER_OBJECT} object, which names the job writing it, cannot be read (${found.reason}): ` +
        `give this job a spec.output.bucket of its own, or, if no other job writes ${bucket}, delete the object (${marker})${kept}`,
    );
  const owner = found.job;
  const head = `the bucket ${bucket} belongs to job ${owner}, not ${config.names.job} (its ${BUCKET_OWNER_OBJECT} object says so)`;
  const message = namesBucket(config.names)
    ? `${head}: ${bucket} is spec.output.bucket, and two jobs writing one bucket overwrite each other's ` +
      "checkpoints and final parameters: give this job a spec.output.bucket of its own, or leave it unset " +
      `for its default one; to go on from ${owner}'s checkpoints, use spec.output.resumeFrom; if ${owner}'s ` +
      `objects are no longer wanted, delete the bucket (nats object rm ${bucket}) or its ${BUCKET_OWNER_OBJECT} object (${marker})`
    : // the job's default bucket: only a job whose spec.output.bucket names it (refused for new jobs) marks it
      `${head}: it is this job's default bucket, which job ${owner}'s spec.output.bucket names: give that job a ` +
      `spec.output.bucket of its own (a default bucket is deleted with its job), then delete ${owner}'s objects ` +
      `here by hand (nats object rm ${bucket} OBJECT, and ${marker})`;
  return new BucketOwnerError(bucket, owner, message + kept);
}
