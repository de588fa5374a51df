// The JetStream message id of a progress event, by which the stream drops an event published again.
import type { ProgressEvent } from "./events.js";

/**
 * A JetStream message id, so that an event a server publishes again (a retried publish whose ack was
 * lost) is deduplicated by the stream. The job's end happens once per attempt: a resumed server that
 * ends it again is a repeat. A round happens once per server start (`launch`): a resumed server runs
 * the rounds after its checkpoint again, and their new values must reach consumers; it says where it
 * resumed (run.resumed) once per start too. A run started
 * over (a new attempt) is never mistaken for a repeat of the one before it. Client state changes may
 * repeat and get none. Events without an attempt or launch keep the ids older servers gave them.
 */
export function eventDedupId(e: ProgressEvent): string | undefined {
  const scope = e.attempt === undefined ? e.job : `${e.job}:${e.attempt}`;
  switch (e.type) {
    case "client.state":
    case "server.ready":
      return undefined;
    case "job.finished":
    case "job.failed":
      return `${scope}:${e.type}`;
    case "run.history": {
      // one per server start and round range: the checkpoint's round and the range's first round
      const first = e.rounds[0]?.round ?? 0;
      return e.launch === undefined
        ? `${scope}:${e.type}:${e.round}:${first}`
        : `${scope}:${e.launch}:${e.type}:${e.round}:${first}`;
    }
    default:
      return e.launch === undefined
        ? `${scope}:${e.type}:${e.round}`
        : `${scope}:${e.launch}:${e.type}:${e.round}`;
  }
}
