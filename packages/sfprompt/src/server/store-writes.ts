// The coordinator's writes to JetStream (checkpoints, round state, final artifact), retried while NATS
// is away: a nats-server that restarts (a pod rescheduled, an upgrade) must not fail a job whose
// progress it holds. A write JetStream refuses (storage full) fails at once, saying what to do.
import { RoundStateConflictError, isTransientNatsError, jetStreamNoRoomCode } from "@sfprompt/protocol";
import { JobStoreError } from "../runtime/errors.js";
import type { Logger } from "../runtime/logger.js";
import { pause } from "../runtime/pause.js";

export interface StoreWriteOptions {
  readonly logger: Logger;
  /** How long a write is retried while NATS does not answer, in ms. */
  readonly budgetMs: number;
  readonly signal?: AbortSignal;
  /** Where a server started again would go on from (appended to the error's advice). */
  readonly resumeHint: string;
}

function advice(error: unknown, waitedMs: number, o: StoreWriteOptions): string {
  const noRoom = jetStreamNoRoomCode(error);
  if (noRoom !== undefined)
    return (
      `JetStream has no room for it (${(error as Error).message}, code ${noRoom}): give nats-server more ` +
      `JetStream storage (jetstream max_file_store, its volume) or delete finished jobs' streams; ${o.resumeHint}`
    );
  if (isTransientNatsError(error))
    return (
      `NATS JetStream did not take it within ${Math.round(waitedMs / 1000)} s (${(error as Error).message}): ` +
      `check that nats-server is running with JetStream; ${o.resumeHint}`
    );
  return `${(error as Error).message}; ${o.resumeHint}`;
}

/**
 * Runs `write` (safe to repeat: an object put under a fixed name, a compare-and-set that recognises
 * its own earlier write), retrying transient NATS failures with backoff for up to `budgetMs`; throws
 * JobStoreError naming `what` otherwise.
 */
export async function writeToStore<T>(
  what: string,
  write: () => Promise<T>,
  o: StoreWriteOptions,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const waited = Date.now() - started;
      if (!isTransientNatsError(error) || waited >= o.budgetMs || o.signal?.aborted === true) {
        // another coordinator advanced the job: its own error says so
        if (error instanceof RoundStateConflictError) throw error;
        throw new JobStoreError(what, advice(error, waited, o), { cause: error });
      }
      const waitMs = Math.min(2000, 100 * 2 ** (attempt - 1), o.budgetMs - waited);
      o.logger.log("warn", "store-write-retry", { what, attempt, waitedMs: waited, error });
      await pause(waitMs, o.signal);
    }
  }
}
