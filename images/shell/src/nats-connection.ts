// The process's one NATS connection: the first connect is retried until a deadline (pods may start
// before NATS is up), later disconnects are reconnected forever and reported to readiness and logs.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { NatsAuth } from "./credentials.js";
import { NatsConnectError } from "./errors.js";
import type { Logger } from "./logger.js";

export interface ConnectOptions {
  readonly url: string;
  /** Connection name shown by the server's /connz (sfprompt-<role>-<job>[-<index>]). */
  readonly name: string;
  readonly auth: NatsAuth;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** Connection state as readiness sees it. */
export interface ConnectionState {
  connected: boolean;
}

const RETRY_MS = 1000;

/** Connects, retrying until `timeoutMs` passed or `signal` aborted; throws NatsConnectError. */
export async function connectWithRetry(o: ConnectOptions): Promise<NatsConnection> {
  const deadline = Date.now() + o.timeoutMs;
  const servers = o.url.split(",").map((s) => s.trim());
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect({
        servers,
        name: o.name,
        ...o.auth,
        timeout: Math.min(5000, o.timeoutMs),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
      });
    } catch (cause) {
      const message = (cause as Error).message;
      // wrong credentials do not get better by retrying
      if (
        /authorization|authentication/i.test((cause as Error).name + message) ||
        Date.now() + RETRY_MS > deadline
      ) {
        throw new NatsConnectError(
          o.url,
          `cannot connect after ${attempt} attempt(s): ${message}; check NATS_URL and the credentials`,
          {
            cause,
          },
        );
      }
      if (o.signal.aborted) throw new NatsConnectError(o.url, "stopped before NATS was reached", { cause });
      o.logger.log("warn", "nats.connect.retry", { url: o.url, attempt, error: message });
      await sleep(RETRY_MS, o.signal);
    }
  }
}

/** Follows `nc`'s status into `state` and the log until the connection closes. */
export function watchConnection(nc: NatsConnection, state: ConnectionState, logger: Logger): Promise<void> {
  state.connected = true;
  return (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        state.connected = false;
        logger.log("warn", "nats.disconnected", { server: s.server });
      } else if (s.type === "reconnect") {
        state.connected = true;
        logger.log("info", "nats.reconnected", { server: s.server });
      } else if (s.type === "error") {
        logger.log("error", "nats.error", { error: s.error });
      } else if (s.type === "slowConsumer") {
        logger.log("warn", "nats.slow-consumer", { subject: s.sub.getSubject() });
      }
    }
    state.connected = false;
  })();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
