// Publishing the job's progress events on its JetStream stream (and to in-process listeners), with
// the fields every event carries filled in. A failed publish is logged, never fatal to training.
import type { NatsConnection } from "@nats-io/transport-node";
import { EVENT_VERSION, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import type { Logger } from "../runtime/logger.js";

/** An event without the common fields (v, job, at), which the publisher adds. */
export type EventBody = ProgressEvent extends infer E
  ? E extends ProgressEvent
    ? Omit<E, "v" | "job" | "at">
    : never
  : never;

export class EventPublisher {
  constructor(
    readonly nc: NatsConnection,
    readonly job: string,
    readonly logger: Logger,
    readonly listener?: (e: ProgressEvent) => void,
  ) {}

  async publish(body: EventBody): Promise<void> {
    const event = { ...body, v: EVENT_VERSION, job: this.job, at: new Date().toISOString() } as ProgressEvent;
    this.listener?.(event);
    try {
      await publishEvent(this.nc, event);
    } catch (error) {
      this.logger.log("warn", "event-publish-failed", { type: event.type, error });
    }
  }
}
