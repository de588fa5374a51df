// A job marks the artifact bucket it writes as its own (the bucket's owner object) and refuses one
// that another job marked: final/ and bundle/ objects carry no job, so two jobs naming one
// spec.output.bucket would overwrite each other's before either has a checkpoint (ADR 0045, second
// amendment).
import type { RunConfig } from "@sfprompt/api";
import { claimBucket, readBucketOwner, type ArtifactStore } from "@sfprompt/protocol";
import { BucketOwnerError } from "../runtime/errors.js";
import { bucketOwnerMessage, type RefusingOwner } from "./bucket-advice.js";

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

function ownerError(
  store: ArtifactStore,
  config: RunConfig,
  found: RefusingOwner,
  startingOver?: string,
): BucketOwnerError {
  const owner = found.kind === "job" ? found.job : undefined;
  return new BucketOwnerError(
    store.bucket,
    owner,
    bucketOwnerMessage(store.bucket, config, found, startingOver),
  );
}
