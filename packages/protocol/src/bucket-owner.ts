// The bucket's owner marker (ADR 0045, second amendment): the job that writes an artifact bucket says so in a small
// `owner` object, created only where none exists, so that a second job naming the same
// spec.output.bucket is caught before either has written a checkpoint (final/ and bundle/ objects
// carry no job).
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { ArtifactStore } from "./artifacts.js";

/** Object name of the marker; outside checkpoints/, final/ and bundle/, so no clean-up deletes it. */
export const BUCKET_OWNER_OBJECT = "owner";

const OWNER_FORMAT = "sfprompt-bucket-owner/1";

/**
 * Whose the bucket is, by its marker: none (no marker: a new bucket, or one from before markers),
 * a job's token, or a marker that cannot be read (written by hand, cut short).
 */
export type BucketOwner =
  | { readonly kind: "none"; readonly revision: number }
  | { readonly kind: "job"; readonly job: string }
  | { readonly kind: "unreadable"; readonly reason: string };

/** What claimBucket found: the marker was written now, was already the job's, or names another. */
export type BucketClaim =
  | { readonly kind: "claimed" }
  | { readonly kind: "own" }
  | { readonly kind: "other"; readonly owner: string }
  | { readonly kind: "unreadable"; readonly reason: string };

/** Reads the bucket's owner marker. `revision` of "none" is what a create-if-absent write expects. */
export async function readBucketOwner(store: ArtifactStore): Promise<BucketOwner> {
  const info = await store.store.info(BUCKET_OWNER_OBJECT);
  // a deleted marker leaves its delete record on the subject: a new one must expect that revision
  if (info === null || info.deleted) return { kind: "none", revision: info?.revision ?? 0 };
  const bytes = await store.get(BUCKET_OWNER_OBJECT);
  if (bytes === null) return { kind: "none", revision: 0 };
  return parseOwner(bytes);
}

/** The marker's bytes as the job they name. */
export function parseOwner(bytes: Uint8Array): BucketOwner {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { kind: "unreadable", reason: "it is not JSON" };
  }
  const { format, job } = (value ?? {}) as { format?: unknown; job?: unknown };
  if (format !== OWNER_FORMAT || typeof job !== "string" || job === "")
    return { kind: "unreadable", reason: `it is not {"format":"${OWNER_FORMAT}","job":"…"}` };
  return { kind: "job", job };
}

/** The marker's bytes for job `job`. */
export function ownerBytes(job: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ format: OWNER_FORMAT, job }));
}

/**
 * Marks the bucket as job `job`'s unless a marker is there. The write expects the marker's subject
 * to be as read (no marker), so of two jobs racing for an unmarked bucket only one writes; the
 * other reads the winner's marker and gets "other". Never overwrites a marker.
 */
export async function claimBucket(store: ArtifactStore, job: string): Promise<BucketClaim> {
  // a lost race re-reads the winner's marker; a marker deleted and written again between the read
  // and the write can lose once more, so a few tries
  for (let attempt = 0; ; attempt++) {
    const owner = await readBucketOwner(store);
    if (owner.kind === "job")
      return owner.job === job ? { kind: "own" } : { kind: "other", owner: owner.job };
    if (owner.kind === "unreadable") return owner;
    try {
      await store.store.putBlob(
        { name: BUCKET_OWNER_OBJECT, description: `SFPrompt: the job writing this bucket` },
        ownerBytes(job),
        { previousRevision: owner.revision },
      );
      return { kind: "claimed" };
    } catch (error) {
      if (!isWrongLastSequence(error) || attempt >= 3) throw error;
    }
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence;
}
