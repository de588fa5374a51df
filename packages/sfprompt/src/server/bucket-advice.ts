// What the refusals of a bucket shared by two jobs (BucketOwnerError, CheckpointError) tell the user
// to do. A job run from a file (`sfprompt run`, an image given a manifest) is edited and run again;
// an SFPromptJob in a cluster keeps spec.output.bucket as it was created (ADR 0045, third
// amendment), so there the way out is a new job.
import { BUCKET_OWNER_OBJECT, namesBucket, type BucketOwner } from "@sfprompt/protocol";
import type { RunConfig } from "@sfprompt/api";

/** Where the job's spec is changed: its file, or the SFPromptJob object in a cluster. */
export type JobHome = "file" | "cluster";

/**
 * The operator's run config carries the job object's metadata.uid, which only an API server gives;
 * a run config made from a file has none (`sfprompt run` drops one a copied manifest carries).
 */
export function jobHome(config: RunConfig): JobHome {
  return config.job.uid === "" ? "file" : "cluster";
}

/** A marker that refuses the job: another job's, or one that cannot be read. */
export type RefusingOwner = Exclude<BucketOwner, { kind: "none" }>;

/** Why a cluster job cannot follow a file's advice. */
const FIXED = "spec.output.bucket is fixed when a job is created";

/**
 * How to give the job a bucket of its own (and, with `from`, go on from that job's checkpoints, which
 * are in `bucket`); leaving spec.output.bucket unset is offered to a job that sets it.
 */
function ownBucket(config: RunConfig, bucket: string, from?: string): string {
  const named = namesBucket(config.names);
  if (jobHome(config) === "file")
    return (
      "give this job a spec.output.bucket of its own" +
      (named ? ", or leave it unset for its default one" : "") +
      (from === undefined ? "" : `; to go on from ${from}'s checkpoints, use spec.output.resumeFrom`)
    );
  const again = named
    ? "create the job again (under another name, or under this one after kubectl delete) with a " +
      "spec.output.bucket of its own, or none for its default one"
    : "create the job again under another name (its default bucket follows its name) or with a " +
      "spec.output.bucket of its own";
  return (
    `${FIXED}: ${again}` +
    (from === undefined
      ? ""
      : `; to go on from ${from}'s checkpoints, give it spec.output.resumeFrom (job ${from}, bucket ${bucket})`)
  );
}

/** What follows a fix by hand: a file is run again; a cluster job that failed stays failed. */
function thenAgain(config: RunConfig): string {
  return jobHome(config) === "file" ? "" : ", then create the job again";
}

/**
 * A cluster job's way out when job `owner`, whose spec.output.bucket names this job's default bucket,
 * wrote its `what` there (`rm`: the commands that delete them).
 */
function defaultBucketTaken(owner: string, what: string, rm: string): string {
  return (
    `${FIXED}, so that job keeps it: create this job again under another name (its default bucket ` +
    `follows its name), or, once ${owner}'s ${what} here are no longer wanted, delete them by hand ` +
    `(${rm}) and create this job again`
  );
}

/**
 * The message of the BucketOwnerError refusing the job's bucket marked by `found`; `startingOver`
 * says what would have deleted objects ("spec.output.resume: false").
 */
export function bucketOwnerMessage(
  bucket: string,
  config: RunConfig,
  found: RefusingOwner,
  startingOver?: string,
): string {
  const kept = startingOver === undefined ? "" : `; ${startingOver} deleted nothing`;
  const marker = `nats object rm ${bucket} ${BUCKET_OWNER_OBJECT}`;
  if (found.kind === "unreadable")
    return (
      `the bucket ${bucket}'s ${BUCKET_OWNER_OBJECT} object, which names the job writing it, cannot be read ` +
      `(${found.reason}): ${ownBucket(config, bucket)}, or, if no other job writes ${bucket}, delete the ` +
      `object (${marker})${thenAgain(config)}${kept}`
    );
  const owner = found.job;
  const head = `the bucket ${bucket} belongs to job ${owner}, not ${config.names.job} (its ${BUCKET_OWNER_OBJECT} object says so)`;
  if (namesBucket(config.names))
    return (
      `${head}: ${bucket} is spec.output.bucket, and two jobs writing one bucket overwrite each other's ` +
      `checkpoints and final parameters: ${ownBucket(config, bucket, owner)}; if ${owner}'s objects are no ` +
      `longer wanted, delete the bucket (nats object rm ${bucket}) or its ${BUCKET_OWNER_OBJECT} object ` +
      `(${marker})${thenAgain(config)}${kept}`
    );
  // the job's default bucket: only a job whose spec.output.bucket names it (refused for new jobs) marks it
  const rm = `nats object rm ${bucket} OBJECT, and ${marker}`;
  return (
    `${head}: it is this job's default bucket, which job ${owner}'s spec.output.bucket names: ` +
    (jobHome(config) === "file"
      ? `give that job a spec.output.bucket of its own (a default bucket is deleted with its job), then ` +
        `delete ${owner}'s objects here by hand (${rm})`
      : defaultBucketTaken(owner, "objects", rm)) +
    kept
  );
}

/**
 * Why a checkpoint of job `found` is refused where job `wanted`'s was looked for in `bucket`.
 * Checkpoint names carry no job, so two jobs writing to one bucket (the same spec.output.bucket)
 * would overwrite each other's: a job refuses another's rather than train on from it, and a job
 * starting over (`startingOver`: what made it start over, e.g. "spec.output.resume: false") refuses
 * to delete it.
 */
export function otherJobMessage(
  found: string,
  wanted: string,
  bucket: string,
  config: RunConfig,
  startingOver?: string,
): string {
  const head = `belongs to job ${found}, not ${wanted}; `;
  if (wanted !== config.names.job)
    return `${head}the bucket ${bucket} is not spec.output.resumeFrom's job's: check spec.output.resumeFrom.bucket`;
  const kept =
    startingOver === undefined
      ? ""
      : `; ${startingOver} deletes only this job's own checkpoints, so nothing was deleted`;
  if (namesBucket(config.names))
    return (
      `${head}the bucket ${bucket} (spec.output.bucket) holds another job's checkpoints, and two ` +
      `jobs cannot share a bucket (checkpoint names carry no job): ${ownBucket(config, bucket, found)}${kept}`
    );
  // this job's default bucket: only a job whose spec.output.bucket names it writes another's here
  return (
    `${head}this job's default bucket ${bucket} holds job ${found}'s checkpoints (its ` +
    "spec.output.bucket names this bucket), and two jobs cannot share a bucket: " +
    (jobHome(config) === "file"
      ? "give that job a spec.output.bucket of its own, or delete its checkpoints by hand " +
        `(nats object rm ${bucket} OBJECT) to start this job over`
      : defaultBucketTaken(found, "checkpoints", `nats object rm ${bucket} OBJECT`)) +
    kept
  );
}
