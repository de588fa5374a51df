// How a client learns that its job ended without it: the job.failed / job.finished event the server
// publishes (a plain subscription on the job-end subject `sfp.<job>.events.job.*`: it reaches the
// client live even when the job's stream has no room to keep it, and no round or client-state event
// of the job reaches the client), and, while its polls go unanswered, the round state the server left
// (finished or failed under its server's attempt, or, naming none, after this client started; an
// older run's state does not count).
// An end belongs to this client's run only if it is of the attempt its server runs, which the
// server's poll replies name (ADR 0041): a replaced attempt's late job.failed does not stop it. An end
// of an attempt not known yet waits until the server names one; an end without an attempt (older
// servers, a server that failed before it knew its attempt) counts.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  jobSubjects,
  openRoundState,
  parseEvent,
  type ProgressEvent,
  type RoundState,
} from "@sfprompt/protocol";
import { JobFailedError, JobFinishedError, type JobEndSource } from "../runtime/errors.js";

/** The job's end, with the error the client's work stops with (its signal's reason). */
export type JobEnd =
  | { readonly kind: "finished"; readonly error: JobFinishedError }
  | { readonly kind: "failed"; readonly error: JobFailedError };

const decoder = new TextDecoder();

export class JobEndWatch {
  readonly #aborter = new AbortController();
  readonly #sub: Subscription | undefined;
  #end: JobEnd | undefined;
  /** The attempt this client's server runs, as its poll replies name it (undefined: none named yet). */
  #attempt: string | undefined;
  /** Ends of attempts not known yet, by attempt: applied if the server turns out to run that one. */
  readonly #pending = new Map<string, JobEnd>();

  constructor(
    readonly nc: NatsConnection,
    readonly job: string,
    /** When the client started (ms): an end recorded before it belongs to an earlier run. */
    readonly startedAt: number,
  ) {
    this.#sub = nc.isClosed()
      ? undefined
      : nc.subscribe(jobSubjects(job).jobEnd, {
          callback: (err, msg) => {
            if (err !== null) return;
            try {
              const e = parseEvent(JSON.parse(decoder.decode(msg.data)));
              const end = this.#endOf(e);
              if (end !== undefined) this.#endOfAttempt(e.attempt, end);
            } catch {
              // not an event: the server's events are the contract, anything else is no end
            }
          },
        });
  }

  /** Aborted once the job ended, with its end's error as reason (JobFinishedError or JobFailedError). */
  get signal(): AbortSignal {
    return this.#aborter.signal;
  }

  ended(): JobEnd | undefined {
    return this.#end;
  }

  /** The attempt the server runs, from a poll reply: ends of other attempts no longer count. */
  learnAttempt(attempt: string | undefined): void {
    if (attempt === undefined || attempt === this.#attempt) return;
    this.#attempt = attempt;
    const end = this.#pending.get(attempt);
    this.#pending.clear();
    if (end !== undefined) this.#ended(end);
  }

  /** The server said the job failed (a lingering server's poll reply): the error to stop with. */
  serverFailed(reason: string, message: string, attempt: string | undefined): JobFailedError {
    this.learnAttempt(attempt);
    const error = new JobFailedError(this.job, reason, message);
    this.#ended({ kind: "failed", error });
    return error;
  }

  /**
   * The server said the job finished (a lingering server's reply to a state report, `reply` its
   * meta): the error to stop the round with, which runClient reads as the job's end. When the job's
   * end was known before, that end's error (the first end stays).
   */
  serverDone(attempt: string | undefined, reply: unknown): JobFinishedError | JobFailedError {
    this.learnAttempt(attempt);
    this.#ended(this.#finished("server-reply", reply));
    return (this.#end as JobEnd).error;
  }

  /**
   * Reads the round state: the server may have ended (and stopped answering) while this client was
   * in a round or disconnected, so no poll and no live event tells it. Binds only: a client of a
   * deleted job must not create its bucket again.
   */
  async checkStore(): Promise<JobEnd | undefined> {
    try {
      const state = await this.#ourState();
      if (state === undefined) return this.#end;
      if (state.phase === "finished") this.#ended(this.#finished("round-state", state));
      if (state.phase === "failed")
        this.#ended(
          this.#failure(state.failure?.reason ?? "Failed", state.failure?.message ?? "(no message recorded)"),
        );
    } catch {
      // no JetStream access or no state yet: keep polling
    }
    return this.#end;
  }

  /**
   * The latest round of this run that the job's round state names (undefined when it does not read
   * or is not this run's): once the job ended, the round it ended in, or a later one. Any phase: a
   * client that heard the end may read the state before its server wrote `finished`.
   */
  async lastRound(): Promise<number | undefined> {
    try {
      return (await this.#ourState())?.round;
    } catch {
      return undefined;
    }
  }

  close(): void {
    try {
      this.#sub?.unsubscribe();
    } catch {
      // the connection closed first: nothing left to unsubscribe
    }
  }

  /** The stored round state if it is of this client's run: its server's attempt, or written since it started. */
  async #ourState(): Promise<RoundState | undefined> {
    const state = (await (await openRoundState(this.nc, this.job, { create: false })).get())?.state;
    if (state === undefined) return undefined;
    const ours =
      this.#attempt !== undefined && state.attempt !== undefined
        ? state.attempt === this.#attempt
        : Date.parse(state.startedAt) >= this.startedAt;
    return ours ? state : undefined;
  }

  #finished(source: JobEndSource, cause: unknown): JobEnd {
    return { kind: "finished", error: new JobFinishedError(this.job, source, { cause }) };
  }

  #failure(reason: string, message: string): JobEnd {
    return { kind: "failed", error: new JobFailedError(this.job, reason, message) };
  }

  #endOf(e: ProgressEvent): JobEnd | undefined {
    if (e.type === "job.finished") return this.#finished("job-event", e);
    if (e.type === "job.failed") return this.#failure(e.reason, e.message);
    return undefined;
  }

  #endOfAttempt(attempt: string | undefined, end: JobEnd): void {
    if (attempt === undefined || attempt === this.#attempt) this.#ended(end);
    // the server has not named its attempt yet: keep it until it does (a few ends at most)
    else if (this.#attempt === undefined && this.#pending.size < 16) this.#pending.set(attempt, end);
  }

  #ended(end: JobEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#aborter.abort(end.error);
  }
}
