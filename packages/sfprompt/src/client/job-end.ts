// How a client learns that its job ended without it: the job.failed / job.finished event the server
// publishes (a plain subscription on the job-end subject `sfp.<job>.events.job.*`: it reaches the
// client live even when the job's stream has no room to keep it, and no round or client-state event
// of the job reaches the client), and, while its polls go unanswered, the round state the server left
// (finished or failed after this client started; an older run's state does not count).
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { jobSubjects, openRoundState, parseEvent } from "@sfprompt/protocol";
import { JobFailedError } from "../runtime/errors.js";

export type JobEnd =
  { readonly kind: "finished" } | { readonly kind: "failed"; readonly error: JobFailedError };

const decoder = new TextDecoder();

export class JobEndWatch {
  readonly #aborter = new AbortController();
  readonly #sub: Subscription | undefined;
  #end: JobEnd | undefined;

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
              if (e.type === "job.finished") this.#ended({ kind: "finished" });
              if (e.type === "job.failed") this.#failed(e.reason, e.message);
            } catch {
              // not an event: the server's events are the contract, anything else is no end
            }
          },
        });
  }

  /** Aborted once the job ended (with a JobFailedError as reason when it failed). */
  get signal(): AbortSignal {
    return this.#aborter.signal;
  }

  ended(): JobEnd | undefined {
    return this.#end;
  }

  /**
   * Reads the round state: the server may have ended (and stopped answering) while this client was
   * in a round or disconnected, so no poll and no live event tells it. Binds only: a client of a
   * deleted job must not create its bucket again.
   */
  async checkStore(): Promise<JobEnd | undefined> {
    try {
      const stored = await (await openRoundState(this.nc, this.job, { create: false })).get();
      const state = stored?.state;
      if (state === undefined || Date.parse(state.startedAt) < this.startedAt) return this.#end;
      if (state.phase === "finished") this.#ended({ kind: "finished" });
      if (state.phase === "failed")
        this.#failed(state.failure?.reason ?? "Failed", state.failure?.message ?? "(no message recorded)");
    } catch {
      // no JetStream access or no state yet: keep polling
    }
    return this.#end;
  }

  close(): void {
    try {
      this.#sub?.unsubscribe();
    } catch {
      // the connection closed first: nothing left to unsubscribe
    }
  }

  #failed(reason: string, message: string): void {
    this.#ended({ kind: "failed", error: new JobFailedError(this.job, reason, message) });
  }

  #ended(end: JobEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#aborter.abort(end.kind === "failed" ? end.error : new Error(`job ${this.job} finished`));
  }
}
