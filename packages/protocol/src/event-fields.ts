// The fields every progress event carries (its version, job, time, attempt and launch) and the pieces
// the event schemas are made of: names, counts, finite numbers and a round's bytes.
import { z } from "zod";
import { NAME_PATTERN } from "./names.js";

export const EVENT_VERSION = 1;
export const eventName = z.string().min(1).max(64).regex(NAME_PATTERN, "must be letters, digits, '-' or '_'");
export const count = z.number().int().min(0);
export const finite = z.number().refine(Number.isFinite, "must be a finite number");

/** The fields of every event. */
export const eventBase = {
  v: z.literal(EVENT_VERSION),
  job: eventName,
  /** When the publisher observed the change (RFC 3339). */
  at: z.iso.datetime({ offset: true }),
  /**
   * The run attempt that published it: made when a server starts a job without a checkpoint to go on
   * from, kept in the checkpoints so that a resumed server goes on under it (ADR 0036). A new value
   * means the job started over: what consumers folded from the earlier attempt no longer holds.
   * Absent in events of older servers and of runs resumed from their checkpoints.
   */
  attempt: eventName.optional(),
  /**
   * The server start that published it (a token made each time a server process starts a job), so
   * that the rounds a resumed server runs again (those after its checkpoint) are not dropped as
   * repeats of the first run's, while one server retrying its own event still is. Absent in events
   * of older servers.
   */
  launch: eventName.optional(),
};

const kindBytes = z
  .object({ activation: count, gradient: count, parameters: count, control: count })
  .partial();

/**
 * Bytes of a round (or a whole job) as the server counted them: up = client -> server. byKind sums
 * both directions; upByKind/downByKind split it by direction (optional: older servers sent byKind
 * only).
 */
export const EventBytesSchema = z.object({
  up: count,
  down: count,
  byKind: kindBytes,
  upByKind: kindBytes.optional(),
  downByKind: kindBytes.optional(),
});
export type EventBytes = z.infer<typeof EventBytesSchema>;
