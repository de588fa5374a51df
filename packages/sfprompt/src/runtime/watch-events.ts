// The job's progress events as an async iterator, for the CLI's progress bars and for tests: a
// durable consumer on the job's stream, each event acked once yielded.
import type { NatsConnection } from "@nats-io/transport-node";
import { consumeEvents, type ProgressEvent } from "@sfprompt/protocol";

export interface WatchEventsOptions {
  readonly signal?: AbortSignal;
  /** Durable consumer name (default: a fresh one, so the watcher sees every event from the start). */
  readonly durable?: string;
  /** Stop after the job's job.finished or job.failed event (default true). */
  readonly untilFinished?: boolean;
}

/** Yields the job's events in stream order; invalid messages are terminated and skipped. */
export async function* watchEvents(
  nc: NatsConnection,
  job: string,
  o: WatchEventsOptions = {},
): AsyncGenerator<ProgressEvent> {
  const durable =
    o.durable ?? `watch-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  for await (const d of consumeEvents(nc, job, durable, o.signal)) {
    if (!d.ok) {
      d.term();
      continue;
    }
    d.ack();
    yield d.event;
    if ((o.untilFinished ?? true) && (d.event.type === "job.finished" || d.event.type === "job.failed"))
      return;
  }
}
