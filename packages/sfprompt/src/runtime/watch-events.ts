// The job's progress events as an async iterator, for the CLI's progress bars and for tests: a
// durable consumer on the job's stream, each event acked once yielded.
import type { NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { consumeEvents, ensureEventStream, type EventDelivery, type ProgressEvent } from "@sfprompt/protocol";

export interface WatchEventsOptions {
  readonly signal?: AbortSignal;
  /** Durable consumer name (default: a fresh one, so the watcher sees every event from the start). */
  readonly durable?: string;
  /** Stop after the job's job.finished or job.failed event (default true). */
  readonly untilFinished?: boolean;
  /** Create the job's events stream when the server has not yet (default true). */
  readonly create?: boolean;
}

/** Yields the job's events in stream order; invalid messages are terminated and skipped. */
export async function* watchEvents(
  nc: NatsConnection,
  job: string,
  o: WatchEventsOptions = {},
): AsyncGenerator<ProgressEvent> {
  // the stream only: the artifact bucket may be spec.output.bucket, which a token does not name
  if (o.create ?? true) await ensureEventStream(nc, job);
  const durable =
    o.durable ?? `watch-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  for await (const d of consumeWhenReady(nc, job, durable, o.signal)) {
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

/** consumeEvents, retried while a stream that another process is creating is not visible yet. */
async function* consumeWhenReady(
  nc: NatsConnection,
  job: string,
  durable: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<EventDelivery> {
  for (let attempt = 0; ; attempt++) {
    const it = consumeEvents(nc, job, durable, signal);
    let first: IteratorResult<EventDelivery>;
    try {
      first = await it.next();
    } catch (error) {
      if (
        !(error instanceof JetStreamApiError) ||
        error.code !== JetStreamApiCodes.StreamNotFound ||
        attempt >= 20
      )
        throw error;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    // The consumer is closed in consumeEvents' finally, which runs only when `it` is returned: a
    // watcher that stops at the first event (a break, or untilFinished on job.finished) must return
    // it here, or its heartbeat timer keeps the process alive after nc.close().
    try {
      if (first.done === true) return;
      yield first.value;
      yield* it;
    } finally {
      await it.return(undefined);
    }
    return;
  }
}
