// Creation and deletion of a job's JetStream resources: the events stream, the artifact Object
// Store (spec.output.bucket or the default one) and the round-state KV. deleteJobResources is what the
// operator's finalizer calls; it leaves a bucket the spec named (ADR 0045), and a default bucket
// another job's owner marker claims (ADR 0045, second amendment).
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  jobNames,
  namesBucket,
  openArtifactStore,
  openExistingArtifactStore,
  removeJobObjects,
  type ArtifactStore,
  type JobNames,
} from "./artifacts.js";
import { readBucketOwner } from "./bucket-owner.js";
import { openRoundState, type RoundStateStore } from "./round-state.js";
import { eventStreamName, jobSubjects, stateBucketName } from "./subjects.js";

export interface JobResourceOptions {
  /** How long events are kept, in ms (default 7 days). */
  readonly eventMaxAgeMs?: number;
}

export interface JobResources {
  readonly artifacts: ArtifactStore;
  readonly roundState: RoundStateStore;
}

/**
 * Creates the job's stream and buckets where missing (idempotent) and opens the buckets. `job` is the
 * run config's names (config.names: its artifact bucket is spec.output.bucket when set), or a token
 * alone for the default bucket.
 */
export async function ensureJobResources(
  nc: NatsConnection,
  job: string | JobNames,
  options: JobResourceOptions = {},
): Promise<JobResources> {
  const names = jobNames(job);
  await ensureEventStream(nc, names.job, options);
  const [artifacts, roundState] = await Promise.all([
    openArtifactStore(nc, names),
    openRoundState(nc, names.job),
  ]);
  return { artifacts, roundState };
}

/**
 * Creates the job's events stream where missing (idempotent). A stream an older server made captures
 * the plain `sfp.<job>.events` only: it is given the per-type subjects too (ADR 0036), keeping the
 * old one, so its stored events stay and new ones land beside them.
 */
export async function ensureEventStream(
  nc: NatsConnection,
  job: string,
  options: JobResourceOptions = {},
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = eventStreamName(job);
  const config = {
    name,
    subjects: [jobSubjects(job).allEvents],
    storage: StorageType.File,
    max_age: (options.eventMaxAgeMs ?? 7 * 24 * 3600 * 1000) * 1_000_000,
    max_msg_size: 1024 * 1024,
    duplicate_window: 2 * 60 * 1_000_000_000,
  };
  try {
    const info = await jsm.streams.info(name);
    const subjects = info.config.subjects ?? [];
    if (!subjects.includes(config.subjects[0]!))
      await jsm.streams.update(name, { ...info.config, subjects: [...subjects, ...config.subjects] });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add(config);
  }
}

/** JetStream stream names behind the job's resources (Object Store and KV use OBJ_/KV_ streams). */
export function jobStreamNames(job: string | JobNames): string[] {
  const { job: token, bucket } = jobNames(job);
  return [eventStreamName(token), `OBJ_${bucket}`, `KV_${stateBucketName(token)}`];
}

export interface DeleteJobOptions {
  /**
   * For a bucket the spec named: delete the job's objects in it (checkpoints, final artifacts), so
   * that the job starts clean (sfprompt run --fresh), still keeping the bucket. Default false: the
   * named bucket is left as it is (the operator's finalizer).
   */
  readonly emptyNamedBucket?: boolean;
}

export interface DeletedJobResources {
  readonly deleted: string[];
  readonly absent: string[];
  /**
   * The bucket's stream, left in place: a named bucket (spec.output.bucket outlives the job), or a
   * default one whose owner marker is not this job's (keptFor says whose).
   */
  readonly kept: string[];
  /**
   * Set when the job's default bucket was kept because its owner marker names another job (that
   * job's spec.output.bucket named it) or cannot be read: the marker's job, or "unreadable".
   */
  readonly keptFor?: string;
  /** Objects deleted from the named bucket (emptyNamedBucket). */
  readonly removedObjects: string[];
}

/**
 * Deletes the job's stream, round-state KV and default artifact bucket; absent ones are fine, so a
 * finalizer can call it again. A bucket the spec named (spec.output.bucket) is kept: it outlives the
 * job, that is why one names it; with emptyNamedBucket the job's objects in it are deleted.
 */
export async function deleteJobResources(
  nc: NatsConnection,
  job: string | JobNames,
  options: DeleteJobOptions = {},
): Promise<DeletedJobResources> {
  const names = jobNames(job);
  const jsm = await jetstreamManager(nc);
  const deleted: string[] = [];
  const absent: string[] = [];
  const kept: string[] = [];
  let removedObjects: string[] = [];
  const named = namesBucket(names);
  const bucketStream = `OBJ_${names.bucket}`;
  const keptFor = named ? undefined : await otherOwner(nc, names);
  if (named) {
    kept.push(bucketStream);
    if (options.emptyNamedBucket === true)
      removedObjects = await removeJobObjects(await openArtifactStore(nc, names));
  } else if (keptFor !== undefined) kept.push(bucketStream);
  for (const stream of jobStreamNames(names).filter((s) => !kept.includes(s))) {
    try {
      await jsm.streams.delete(stream);
      deleted.push(stream);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      absent.push(stream);
    }
  }
  return { deleted, absent, kept, removedObjects, ...(keptFor === undefined ? {} : { keptFor }) };
}

/**
 * Whose the job's default bucket is when not the job's own: the job its owner marker names (one
 * whose spec.output.bucket named this bucket before such names were refused), or "unreadable";
 * undefined when the bucket is absent, unmarked or marked by this job (deleted with the job).
 */
async function otherOwner(nc: NatsConnection, names: JobNames): Promise<string | undefined> {
  const store = await openExistingArtifactStore(nc, names.bucket);
  if (store === null) return undefined;
  const owner = await readBucketOwner(store);
  if (owner.kind === "unreadable") return "unreadable";
  return owner.kind === "job" && owner.job !== names.job ? owner.job : undefined;
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}
