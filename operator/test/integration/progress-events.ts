// Progress events as a job's server publishes them, for tests that play the server's part on NATS.
import type { ProgressEvent } from "@sfprompt/protocol";

/** The fields every progress event of `job` carries, stamped now. */
export const eventBase = (job: string): { v: 1; job: string; at: string } => ({
  v: 1,
  job,
  at: new Date().toISOString(),
});

/** A round.finished of one client with 200 bytes, loss 1/round and accuracy 0.5. */
export function roundFinished(job: string, round: number): ProgressEvent {
  return {
    ...eventBase(job),
    type: "round.finished",
    round,
    loss: 1 / round,
    accuracy: 0.5,
    participants: ["client-0"],
    samples: 10,
    bytes: { up: 100, down: 100, byKind: {} },
    durationMs: 1,
  };
}
