// The job's round state in a JetStream KV bucket, so a restarted server resumes where it stopped.
// Writes are compare-and-set on the revision: two coordinators cannot both advance a round.
import { Kvm, type KV } from "@nats-io/kv";
import { JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { DataPlaneError } from "./errors.js";
import { NAME_PATTERN } from "./names.js";
import { stateBucketName } from "./subjects.js";

export const ROUND_PHASES = [
  "selecting",
  "local-update",
  "split-training",
  "aggregating",
  "evaluating",
  "checkpointing",
  "finished",
  /** The job failed on its server (job.failed): clients stop instead of waiting for it. */
  "failed",
] as const;
export type RoundPhase = (typeof ROUND_PHASES)[number];

const client = z.string().regex(NAME_PATTERN);
export const RoundStateSchema = z.object({
  v: z.literal(1),
  round: z.number().int().min(0),
  phase: z.enum(ROUND_PHASES),
  selected: z.array(client),
  /** Clients whose upload for this round was accepted. */
  reported: z.array(client),
  startedAt: z.iso.datetime({ offset: true }),
  deadlineAt: z.iso.datetime({ offset: true }).optional(),
  /** Object name of the last checkpoint written (resume loads it). */
  checkpoint: z.string().optional(),
  /**
   * The run attempt of the server that wrote it (ADR 0036): a client compares it with the attempt its
   * server runs before it takes a finished or failed state for its own job's end. Absent when written
   * by older servers, or by one that failed before it knew its attempt.
   */
  attempt: z.string().regex(NAME_PATTERN).optional(),
  /** Why the job failed (phase failed), as in its job.failed event. */
  failure: z.object({ reason: z.string().min(1), message: z.string() }).optional(),
});
export type RoundState = z.infer<typeof RoundStateSchema>;

const KEY = "current";

/** The stored round state is not valid JSON or does not match RoundStateSchema. */
export class RoundStateCorruptError extends DataPlaneError {
  readonly code = "bad-state";
}

/** Another writer changed the round state since it was read (compare-and-set failed). */
export class RoundStateConflictError extends Error {
  constructor(job: string, revision: number, options?: { cause?: unknown }) {
    super(`round state of job ${job} changed since revision ${revision}; read it again and retry`, options);
    this.name = "RoundStateConflictError";
  }
}

export interface StoredRoundState {
  readonly state: RoundState;
  readonly revision: number;
}

export class RoundStateStore {
  constructor(
    readonly job: string,
    readonly kv: KV,
  ) {}

  /** The current state and its revision, or null before the first round. */
  async get(): Promise<StoredRoundState | null> {
    const e = await this.kv.get(KEY);
    if (e === null || e.operation !== "PUT") return null;
    let value: unknown;
    try {
      value = e.json<unknown>();
    } catch (cause) {
      throw new RoundStateCorruptError("stored round state is not JSON", { frame: { job: this.job }, cause });
    }
    const parsed = RoundStateSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RoundStateCorruptError(`stored round state is invalid: ${issue.message}`, {
        frame: { job: this.job },
        field: issue.path.join("."),
        cause: parsed.error,
      });
    }
    return { state: parsed.data, revision: e.revision };
  }

  /**
   * Writes `state` if the stored revision is still `revision` (0: only if none is stored yet).
   * Returns the new revision; throws RoundStateConflictError when another writer got there first, and
   * the NATS error itself when the write did not reach JetStream (safe to call again with the same
   * arguments: a write that did land is recognised).
   */
  async put(state: RoundState, revision: number): Promise<number> {
    const data = JSON.stringify(RoundStateSchema.parse(state));
    try {
      return revision === 0 ? await this.kv.create(KEY, data) : await this.kv.update(KEY, data, revision);
    } catch (cause) {
      // anything but a failed compare-and-set (a timeout while NATS restarts) is the caller's to retry
      if (!isWrongRevision(cause)) throw cause;
      // a retry of a write whose reply was lost finds its own state stored: that is success
      const stored = await this.kv.get(KEY);
      if (stored?.operation === "PUT" && stored.string() === data) return stored.revision;
      throw new RoundStateConflictError(this.job, revision, { cause });
    }
  }
}

function isWrongRevision(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Opens the job's round-state bucket, creating it (file storage, 5 revisions kept) when missing; with
 * `create: false` it only binds (a reader must not bring back the bucket of a deleted job), and
 * reading a missing bucket fails.
 */
export async function openRoundState(
  nc: NatsConnection,
  job: string,
  options: { create?: boolean } = {},
): Promise<RoundStateStore> {
  const kvm = new Kvm(nc);
  const kv =
    options.create === false
      ? await kvm.open(stateBucketName(job))
      : await kvm.create(stateBucketName(job), { history: 5, storage: StorageType.File });
  return new RoundStateStore(job, kv);
}
