// Publishing the job's progress events on its JetStream stream (and to in-process listeners), with
// the fields every event carries filled in. A failed publish is retried, then logged: never fatal to
// training. Retries are safe: round and job events carry a message id the stream de-duplicates on.
import type { NatsConnection } from "@nats-io/transport-node";
import { EVENT_VERSION, EventSchemaError, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import type { Logger } from "../runtime/logger.js";

/** An event without the common fields (v, job, at), which the publisher adds. */
export type EventBody = ProgressEvent extends infer E
  ? E extends ProgressEvent
    ? Omit<E, "v" | "job" | "at">
    : never
  : never;

export interface EventRetryOptions {
  /** Publish attempts per event (default 5). */
  readonly attempts?: number;
  /** Pause before the second attempt, doubled before each further one (default 250 ms). */
  readonly backoffMs?: number;
}

export class EventPublisher {
  constructor(
    readonly nc: NatsConnection,
    readonly job: string,
    readonly logger: Logger,
    readonly listener?: (e: ProgressEvent) => void,
    readonly retry: EventRetryOptions = {},
  ) {}

  /** The last event queued: events go out one at a time, in the order they were published. */
  #last: Promise<void> = Promise.resolve();

  /**
   * Queues `body` and resolves once it is on the stream or given up on (never rejects). Events go
   * out in order, each retried when the stream does not acknowledge in time: while hundreds of MB of
   * parameters cross the same NATS server (FL full fine-tuning), JetStream acks can take longer than
   * the publish timeout, and a lost round.finished would drop that round's bytes from the job status.
   * Request handlers should not await it: a retried publish would hold their reply back.
   */
  publish(body: EventBody): Promise<void> {
    const event = { ...body, v: EVENT_VERSION, job: this.job, at: new Date().toISOString() } as ProgressEvent;
    this.listener?.(event);
    const sent = this.#last.then(() => this.#send(event));
    this.#last = sent;
    return sent;
  }

  async #send(event: ProgressEvent): Promise<void> {
    const attempts = Math.max(1, this.retry.attempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      try {
        await publishEvent(this.nc, event);
        return;
      } catch (error) {
        // an event that fails its schema fails it again: only the stream's side is worth retrying
        if (attempt >= attempts || error instanceof EventSchemaError || this.nc.isClosed()) {
          this.logger.log("warn", "event-publish-failed", { type: event.type, attempts: attempt, error });
          return;
        }
        this.logger.log("info", "event-publish-retry", { type: event.type, attempt, error });
        await new Promise((r) => setTimeout(r, (this.retry.backoffMs ?? 250) * 2 ** (attempt - 1)));
      }
    }
  }
}
