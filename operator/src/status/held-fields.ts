// Of a stored status that does not read, the rejected fields only the job's event stream gives back
// (round, metrics, bytes, checkpoint): until the operator has replayed the stream, its status write
// leaves them as stored instead of writing round 0 or none over them, which `kubectl get` would show
// as 0/N for a job that trained, and a finished job would keep (ADR 0023, amendments 7 and 8). Pure.
import type { StatusWrite } from "./compute-status.js";

/** Top-level status fields computed from the progress events, each with those that go with it. */
const FROM_EVENTS: Readonly<Record<string, readonly string[]>> = {
  // `progress` is the printer column's round/rounds: it says the round the status has
  round: ["round", "progress"],
  progress: ["round", "progress"],
  metrics: ["metrics"],
  communication: ["communication"],
  lastCheckpoint: ["lastCheckpoint"],
  resumedFrom: ["resumedFrom"],
};

/** True when `v` holds something: a value, or an object or list that is not empty. */
function holds(v: unknown): boolean {
  if (v === undefined) return false;
  return typeof v !== "object" || v === null || Object.keys(v).length > 0;
}

/**
 * The fields to leave as stored, of the `rejected` top-level fields, while no replay is in: those of
 * which nothing reads (`kept`, the stored status as read, lacks them). One of which part reads (a
 * metrics without its `bestRound`) is written as read, which the reconciler keeps without a replay.
 */
export function heldFields(
  rejected: readonly string[],
  kept: Readonly<Record<string, unknown>> = {},
): string[] {
  return [...new Set(rejected.filter((k) => !holds(kept[k])).flatMap((k) => FROM_EVENTS[k] ?? []))].sort();
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `next` with each `held` field as `stored` has it (left out where it has none): written over the
 * stored status, the patch leaves those fields unchanged.
 */
export function withHeldFields(next: StatusWrite, stored: unknown, held: readonly string[]): StatusWrite {
  if (held.length === 0) return next;
  const out: Record<string, unknown> = { ...next };
  const before = isRecord(stored) ? stored : {};
  for (const k of held) {
    if (before[k] === undefined) delete out[k];
    else out[k] = before[k];
  }
  // the stored values are the ones the schema rejects: this is the status as the API server will hold it
  return out as StatusWrite;
}
