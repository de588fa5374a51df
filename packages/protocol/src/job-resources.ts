// Creation and deletion of a job's JetStream resources: the events stream, the artifact Object
// Store and the round-state KV. deleteJobResources is what the operator's finalizer calls.
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { openArtifactStore, type ArtifactStore } from "./artifacts.js";
import { openRoundState, type RoundStateStore } from "./round-state.js";
import { artifactBucketName, eventStreamName, jobSubjects, stateBucketName } from "./subjects.js";

export interface JobResourceOptions {
  /** How long events are kept, in ms (default 7 days). */
  readonly eventMaxAgeMs?: number;
}

export interface JobResources {
  readonly artifacts: ArtifactStore;
  readonly roundState: RoundStateStore;
}

/**
 * Creates the job's stream and buckets where missing (idempotent) and opens the buckets. A stream an
 * older server made captures the plain `sfp.<job>.events` only: it is given the per-type subjects
 * too (ADR 0036), keeping the old one, so its stored events stay and new ones land beside them.
 */
export async function ensureJobResources(
  nc: NatsConnection,
  job: string,
  options: JobResourceOptions = {},
): Promise<JobResources> {
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
  const [artifacts, roundState] = await Promise.all([openArtifactStore(nc, job), openRoundState(nc, job)]);
  return { artifacts, roundState };
}

/** JetStream stream names behind the job's resources (Object Store and KV use OBJ_/KV_ streams). */
export function jobStreamNames(job: string): string[] {
  return [eventStreamName(job), `OBJ_${artifactBucketName(job)}`, `KV_${stateBucketName(job)}`];
}

/** Deletes the job's stream and buckets; absent ones are fine, so a finalizer can call it again. */
export async function deleteJobResources(
  nc: NatsConnection,
  job: string,
): Promise<{ deleted: string[]; absent: string[] }> {
  const jsm = await jetstreamManager(nc);
  const deleted: string[] = [];
  const absent: string[] = [];
  for (const stream of jobStreamNames(job)) {
    try {
      await jsm.streams.delete(stream);
      deleted.push(stream);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      absent.push(stream);
    }
  }
  return { deleted, absent };
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}
