// Requests a test sends a process's services where the process's counts are asserted exactly: sent
// again only when NATS said no service listened (the process never saw it), never after a timeout,
// since a request the process received and answered late would then be counted twice.
import { RequestError, type Msg, type NatsConnection } from "@nats-io/transport-node";

/** How long a request waits for its reply: a slow, loaded machine fails the test, never recounts. */
export const ONCE_TIMEOUT_MS = 60_000;

/**
 * Sends `data` to `subject` until a service listens (a no-responders answer is retried every 100 ms
 * for up to `listenMs`) and resolves with the one reply; a timeout rejects, it is not retried.
 */
export async function requestOnceListened(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array,
  listenMs = 60_000,
): Promise<Msg> {
  const deadline = Date.now() + listenMs;
  for (;;) {
    try {
      return await nc.request(subject, data, { timeout: ONCE_TIMEOUT_MS });
    } catch (error) {
      const nobody = error instanceof RequestError && error.isNoResponders();
      if (!nobody || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
