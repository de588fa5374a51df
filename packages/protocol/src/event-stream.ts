// Publishing and consuming a job's progress events on its JetStream stream (durable pull consumers,
// explicit acks: the operator acks an event once it is folded into the job's status).
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EventSchemaError } from "./errors.js";
import { eventDedupId } from "./event-dedup.js";
import { parseEvent, type ProgressEvent } from "./events.js";
import { eventStreamName, eventSubject } from "./subjects.js";

/** One delivered event: `ok` false when the message did not match the schema (terminate it). */
export type EventDelivery =
  | { readonly ok: true; readonly seq: number; readonly event: ProgressEvent; ack(): void; term(): void }
  | { readonly ok: false; readonly seq: number; readonly error: EventSchemaError; ack(): void; term(): void };

const decoder = new TextDecoder();

/**
 * Validates and publishes `event` on its type's subject (`sfp.<job>.events.<type>`), which the job's
 * stream captures; returns the stream sequence (or the duplicate's).
 */
export async function publishEvent(
  nc: NatsConnection,
  event: ProgressEvent,
): Promise<{ seq: number; duplicate: boolean }> {
  const valid = parseEvent(event);
  const msgID = eventDedupId(valid);
  const ack = await jetstream(nc).publish(
    eventSubject(valid.job, valid.type),
    JSON.stringify(valid),
    msgID === undefined ? undefined : { msgID },
  );
  return { seq: ack.seq, duplicate: ack.duplicate };
}

/**
 * Creates (or keeps) a durable pull consumer on the job's events, delivering from the start. It has
 * no subject filter: the stream holds only the job's events, whatever subject they came on (events
 * of older servers on the plain `sfp.<job>.events`), and a durable made with the old filter loses it.
 */
export async function ensureEventConsumer(nc: NatsConnection, job: string, durable: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(eventStreamName(job), {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 1024,
  });
}

/**
 * The stream sequence of the job's newest event (0 when the stream holds none): every event stored
 * later has a higher one, so a consumer that notes it before starting a server can tell that server's
 * events from those earlier servers left in the stream. The stream must exist (ensureEventStream).
 */
export async function lastEventSeq(nc: NatsConnection, job: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(eventStreamName(job))).state.last_seq;
}

function toDelivery(m: JsMsg): EventDelivery {
  const ack = (): void => m.ack();
  const term = (): void => m.term();
  try {
    const event = parseEvent(JSON.parse(decoder.decode(m.data)) as unknown);
    return { ok: true, seq: m.seq, event, ack, term };
  } catch (cause) {
    const error =
      cause instanceof EventSchemaError
        ? cause
        : new EventSchemaError("event is not JSON", { cause, field: "event" });
    return { ok: false, seq: m.seq, error, ack, term };
  }
}

export interface FetchEventsOptions {
  /** Most events returned (default 256). */
  readonly max?: number;
  /** How long to wait for the first event, in ms (default 1000; min 1000 is what JetStream allows). */
  readonly expiresMs?: number;
}

/** Fetches the next batch of unacked events for `durable` (created if missing); empty when none came. */
export async function fetchEvents(
  nc: NatsConnection,
  job: string,
  durable: string,
  options: FetchEventsOptions = {},
): Promise<EventDelivery[]> {
  await ensureEventConsumer(nc, job, durable);
  const consumer = await jetstream(nc).consumers.get(eventStreamName(job), durable);
  const batch = await consumer.fetch({
    max_messages: options.max ?? 256,
    expires: Math.max(1000, options.expiresMs ?? 1000),
  });
  const out: EventDelivery[] = [];
  for await (const m of batch) out.push(toDelivery(m));
  return out;
}

/**
 * Stops a consume()/fetch() iterator as soon as `signal` aborts or `nc` closes, and returns the
 * function that detaches both watches. close() has to be called directly: the library queues its own
 * stop-on-connection-close behind the messages, so an iterator nobody pulls from any more (a
 * generator suspended at a yield) would keep its idle-heartbeat interval timer, and the process,
 * alive after nc.close().
 */
export function stopMessagesOn(
  messages: ConsumerMessages,
  nc: NatsConnection,
  signal?: AbortSignal,
): () => void {
  // a box, so that a connection that lives on does not keep a finished iterator reachable
  const box: { messages: ConsumerMessages | undefined } = { messages };
  const stop = (): void => {
    const m = box.messages;
    box.messages = undefined;
    try {
      if (m) void m.close().catch(() => undefined);
    } catch {
      // already torn down with its connection: nothing left to stop
    }
  };
  void nc.closed().then(stop, stop);
  signal?.addEventListener("abort", stop, { once: true });
  // an abort that came while the consumer was being set up fires no listener
  if (signal?.aborted === true) stop();
  return (): void => {
    box.messages = undefined;
    signal?.removeEventListener("abort", stop);
  };
}

/** Streams events for `durable` until `signal` aborts or `nc` closes; the caller acks (or terms) each. */
export async function* consumeEvents(
  nc: NatsConnection,
  job: string,
  durable: string,
  signal?: AbortSignal,
): AsyncGenerator<EventDelivery> {
  await ensureEventConsumer(nc, job, durable);
  if (signal?.aborted === true) return;
  const consumer = await jetstream(nc).consumers.get(eventStreamName(job), durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const detach = stopMessagesOn(messages, nc, signal);
  try {
    for await (const m of messages) yield toDelivery(m);
  } finally {
    detach();
    await messages.close();
  }
}
