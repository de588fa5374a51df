// The coordinator's record of the job's progress in JetStream: the round state in KV (compare-and-set
// on the revision it last wrote) and the writes of checkpoints and artifacts, retried while NATS is
// away. It knows the last checkpoint, which every state names and every failed write's advice cites.
import { RoundStateConflictError, type JobResources, type RoundState } from "@sfprompt/protocol";
import type { PendingState } from "./job-end-delivery.js";
import type { Logger } from "../runtime/logger.js";
import { writeToStore } from "./store-writes.js";

export interface ProgressStoreOptions {
  readonly resources: JobResources;
  readonly logger: Logger;
  /** How long a write is retried while NATS is away. */
  readonly budgetMs: number;
  readonly signal?: AbortSignal | undefined;
}

export class ProgressStore {
  /** Revision of the round state this coordinator read or wrote last (0: none stored). */
  revision = 0;
  /** Object name of the last checkpoint written or resumed from. */
  lastCheckpoint: string | undefined;
  /** The run's attempt, recorded in every state (undefined: not known yet, or none). */
  attempt: string | undefined;
  /** The failed state recordFailure could not write (NATS away), for a lingering server to write. */
  unrecordedFailure: PendingState | undefined;

  constructor(readonly o: ProgressStoreOptions) {}

  /** A JetStream write of the job's progress, retried while NATS is away (a nats-server restart). */
  write<T>(what: string, write: () => Promise<T>): Promise<T> {
    return writeToStore(what, write, {
      logger: this.o.logger,
      budgetMs: this.o.budgetMs,
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      resumeHint: this.lastCheckpoint
        ? `a server started again resumes from ${this.lastCheckpoint}`
        : "a server started again starts the job over (no checkpoint was written yet)",
    });
  }

  async putState(s: Omit<RoundState, "v" | "checkpoint" | "attempt">): Promise<void> {
    const state = this.#state(s);
    const revision = this.revision;
    this.revision = await this.write(`round state (${s.phase}, round ${s.round})`, () =>
      this.o.resources.roundState.put(state, revision),
    );
  }

  /** `s` as stored: versioned, naming the last checkpoint and the run's attempt. */
  #state(s: Omit<RoundState, "v" | "checkpoint" | "attempt">): RoundState {
    return {
      v: 1,
      ...s,
      ...(this.lastCheckpoint ? { checkpoint: this.lastCheckpoint } : {}),
      ...(this.attempt === undefined ? {} : { attempt: this.attempt }),
    };
  }

  /**
   * Leaves phase "failed" in the round state, so that clients that missed the job.failed event (in a
   * round, or disconnected) stop instead of polling a server that is gone. Best effort, for a few
   * seconds: the store may be what failed (a state not written is kept in unrecordedFailure, which a
   * lingering server goes on writing). Another coordinator's newer state is left alone.
   */
  async recordFailure(round: number, reason: string, message: string): Promise<void> {
    const state = this.#state({
      phase: "failed",
      round,
      selected: [],
      reported: [],
      startedAt: new Date().toISOString(),
      failure: { reason, message },
    });
    try {
      await writeToStore(
        "round state (failed)",
        () => this.o.resources.roundState.put(state, this.revision),
        {
          logger: this.o.logger,
          budgetMs: 5000,
          resumeHint: "clients that missed job.failed keep waiting until stopped",
        },
      );
    } catch (error) {
      // another coordinator wrote the job's state since: it is newer than this failure
      if (error instanceof RoundStateConflictError) return;
      this.o.logger.log("warn", "failure-not-recorded", { error });
      this.unrecordedFailure = { state, revision: this.revision };
    }
  }
}
