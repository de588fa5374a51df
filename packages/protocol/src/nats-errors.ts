// Which NATS and JetStream failures are worth retrying (NATS away for a while: a restarted
// nats-server) and which say the JetStream store has no room (retrying cannot help).
import { JetStreamApiError } from "@nats-io/jetstream";
import { ConnectionError, NoRespondersError, RequestError, TimeoutError } from "@nats-io/transport-node";

/** JetStream's answer "temporarily unavailable" (a restarted server that has not recovered yet). */
const JS_TEMPORARILY_UNAVAILABLE = 10008;
/** JetStream's answers for a store without room: insufficient resources, storage/memory/account limits. */
const JS_NO_ROOM = new Set([10023, 10047, 10028, 10002]);

/** True for failures of reaching NATS or JetStream that a retry can outlive (timeouts, no responders yet). */
export function isTransientNatsError(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.code === JS_TEMPORARILY_UNAVAILABLE;
  return (
    error instanceof TimeoutError ||
    error instanceof NoRespondersError ||
    error instanceof RequestError ||
    error instanceof ConnectionError ||
    // @nats-io/jetstream reports "no responders on the JetStream API" under this name (not exported)
    (error instanceof Error && error.name === "JetStreamNotEnabled")
  );
}

/** JetStream's error code when `error` says its store has no room for a write, else undefined. */
export function jetStreamNoRoomCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError && JS_NO_ROOM.has(error.code) ? error.code : undefined;
}
