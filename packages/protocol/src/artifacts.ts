// The job's artifact bucket (JetStream Object Store): partition bundles, per-round checkpoints of the
// global prompt + tail, and the final artifacts.
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Objm, StorageType, type ObjectInfo, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { artifactBucketName } from "./subjects.js";

const CHECKPOINT_PREFIX = "checkpoints/round-";

/** Object name of the checkpoint of round `round` (zero-padded so names sort by round). */
export function checkpointObjectName(round: number): string {
  return `${CHECKPOINT_PREFIX}${String(round).padStart(6, "0")}`;
}

/** Object name of a partition bundle file (e.g. "head.onnx", "manifest.json"). */
export function bundleObjectName(file: string): string {
  return `bundle/${file}`;
}

export const FINAL_ARTIFACT_OBJECT = "final/prompt-tail";

export class ArtifactStore {
  constructor(
    readonly bucket: string,
    readonly store: ObjectStore,
  ) {}

  /** Stores `data` under `name`, replacing an older object of that name. */
  put(name: string, data: Uint8Array, description?: string): Promise<ObjectInfo> {
    return this.store.putBlob(description === undefined ? { name } : { name, description }, data);
  }

  /** The object's bytes (digest verified by the client), or null when absent. */
  get(name: string): Promise<Uint8Array | null> {
    return this.store.getBlob(name);
  }

  /** Names of the objects present, sorted. */
  async names(): Promise<string[]> {
    const infos = await this.store.list();
    return infos
      .filter((i) => !i.deleted)
      .map((i) => i.name)
      .sort();
  }

  /** Names of the checkpoints present, oldest round first. */
  async checkpointNames(): Promise<string[]> {
    return (await this.names()).filter((n) => n.startsWith(CHECKPOINT_PREFIX));
  }

  /** The checkpoint with the highest round, or null when none was written yet. */
  async latestCheckpoint(): Promise<{ round: number; name: string } | null> {
    const last = (await this.checkpointNames()).at(-1);
    return last === undefined ? null : { round: Number(last.slice(CHECKPOINT_PREFIX.length)), name: last };
  }
}

/**
 * A job's token and the artifact bucket it writes to: `RunConfig["names"]` fits. The bucket is
 * spec.output.bucket when the spec names one, else the default artifactBucketName(job).
 */
export interface JobNames {
  readonly job: string;
  readonly bucket: string;
}

/** The names of a job given as a token alone (no spec.output.bucket): its default bucket. */
export function jobNames(job: string | JobNames): JobNames {
  return typeof job === "string" ? { job, bucket: artifactBucketName(job) } : job;
}

/**
 * Whether the job writes to a bucket its spec named (spec.output.bucket), which outlives the job,
 * rather than its default one, removed with it. A named bucket equal to the default name is the default.
 */
export function namesBucket(names: JobNames): boolean {
  return names.bucket !== artifactBucketName(names.job);
}

/** Prefixes of the object names a job writes to its bucket (they carry no job: ADR 0045). */
const JOB_OBJECT_PREFIXES = ["checkpoints/", "final/", "bundle/"];

/** Deletes the objects a job writes (checkpoints, final artifacts, bundle), keeping the bucket. */
export async function removeJobObjects(store: ArtifactStore): Promise<string[]> {
  const names = (await store.names()).filter((n) => JOB_OBJECT_PREFIXES.some((p) => n.startsWith(p)));
  for (const n of names) await store.store.delete(n);
  return names;
}

/**
 * Opens the job's artifact bucket, creating it (file storage) when missing. A token alone opens the
 * default bucket: pass the run config's names (config.names) so that spec.output.bucket is honoured.
 */
export async function openArtifactStore(nc: NatsConnection, job: string | JobNames): Promise<ArtifactStore> {
  const { job: token, bucket } = jobNames(job);
  const store = await new Objm(nc).create(bucket, {
    storage: StorageType.File,
    description: `SFPrompt job ${token}`,
  });
  return new ArtifactStore(bucket, store);
}

/**
 * Opens an existing artifact bucket by its name without creating it (another job's, only read):
 * null when no such bucket exists.
 */
export async function openExistingArtifactStore(
  nc: NatsConnection,
  bucket: string,
): Promise<ArtifactStore | null> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(`OBJ_${bucket}`);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
    throw error;
  }
  // checked above; a second check here would only race the same way
  return new ArtifactStore(bucket, await new Objm(nc).open(bucket, false));
}
