// A job that goes on from another job's checkpoint (spec.output.resumeFrom, ADR 0044), as a local
// run sees it before the server starts: the source's newest checkpoint. (Afterwards the job's own
// checkpoints name the source and its round: `inherited` in their metadata, see round-history.ts.)
import type { RunConfig } from "@sfprompt/api";
import { openExistingArtifactStore } from "@sfprompt/protocol";
import type { NatsConnection } from "@nats-io/transport-node";

/** spec.output.resumeFrom's job and bucket, and what that bucket holds. */
export interface SourceCheckpoint {
  readonly job: string;
  readonly bucket: string;
  /** The round of the bucket's newest checkpoint; null when it holds none or does not exist. */
  readonly round: number | null;
  readonly bucketExists: boolean;
}

/**
 * The newest checkpoint of the job's spec.output.resumeFrom bucket, only read (the bucket is not
 * created); undefined when the job sets no resumeFrom. The server decides whether it can be read.
 */
export async function sourceCheckpoint(
  nc: NatsConnection,
  config: RunConfig,
): Promise<SourceCheckpoint | undefined> {
  const from = config.output.resumeFrom;
  if (from === undefined) return undefined;
  const store = await openExistingArtifactStore(nc, from.bucket);
  const newest = (await store?.latestCheckpoint()) ?? null;
  return { job: from.job, bucket: from.bucket, round: newest?.round ?? null, bucketExists: store !== null };
}

/** Where the source was looked for and what was found, for a message when it holds no checkpoint. */
export function sourceWhere(s: SourceCheckpoint): string {
  const found = s.bucketExists ? "it holds no checkpoint" : "no such bucket";
  return `spec.output.resumeFrom.job ${s.job}'s bucket ${s.bucket} (${found})`;
}

/**
 * The status line for a session whose own store holds no checkpoint: where the server will go on
 * from (`s`: the source as the run read it at its start). Undefined when the job sets no resumeFrom,
 * or the source has no checkpoint (the server then fails the job with a message that says what to do).
 */
export function resumeFromLine(s: SourceCheckpoint | undefined, label: string): string | undefined {
  if (s === undefined || s.round === null) return undefined;
  const { job, bucket, round } = s;
  return `${label}: going on from job ${job}'s checkpoint of round ${round} (spec.output.resumeFrom; bucket ${bucket}, only read; ${round === 1 ? "round 1 is" : `rounds 1–${round} are`} ${job}'s, logs/server.log's "resumed" event names the checkpoint read)`;
}
