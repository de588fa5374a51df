// Follows the job's end events (a plain NATS subscription on `sfp.<job>.events.job.*`: job.finished and
// job.failed, live) into the process metrics of a client. Round and client-state events do not reach
// it: every client would receive every client's, bytes that grow with the clients (ADR 0036); the
// job's round-level families are the server's. A message that is no valid event is counted and
// logged, never thrown.
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { jobSubjects, parseEvent } from "@sfprompt/protocol";
import type { Logger } from "./logger.js";
import type { ProcessMetrics } from "./process-metrics.js";

const decoder = new TextDecoder();

/** Subscribes and folds events until the subscription ends (drain or close). */
export function watchEvents(
  nc: NatsConnection,
  job: string,
  metrics: ProcessMetrics,
  logger: Logger,
): { subscription: Subscription; done: Promise<void> } {
  const subscription = nc.subscribe(jobSubjects(job).jobEnd);
  const done = (async () => {
    for await (const msg of subscription) {
      try {
        metrics.onEvent(parseEvent(JSON.parse(decoder.decode(msg.data))));
      } catch (error) {
        metrics.badMessage("event-schema");
        logger.log("warn", "event.invalid", { subject: msg.subject, error });
      }
    }
  })();
  return { subscription, done };
}
