// Follows the job's progress events (a plain NATS subscription on the events subject: every event the
// coordinator publishes to the JetStream stream also reaches it) into the process metrics. A message
// that is not a valid event is counted and logged, never thrown.
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
  const subscription = nc.subscribe(jobSubjects(job).events);
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
