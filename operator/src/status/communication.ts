// status.communication from the progress snapshot: bytes in total, by direction, and by kind and
// direction when the server reported the split (events without it fill the totals only).
import type { Communication } from "@sfprompt/api";
import type { EventBytes } from "@sfprompt/protocol";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { humanBytes } from "./human-bytes.js";

type Kind = keyof EventBytes["byKind"];
type ByteField = Exclude<keyof Communication, "totalHuman">;

/** Status field names of each event kind, [up, down]. */
const KIND_FIELDS: readonly [Kind, ByteField, ByteField][] = [
  ["activation", "activationsUp", "activationsDown"],
  ["gradient", "gradientsUp", "gradientsDown"],
  ["parameters", "parametersUp", "parametersDown"],
  ["control", "controlUp", "controlDown"],
];

/** The byte counts that make up the job's traffic so far: the job's totals once finished, else its rounds. */
function reports(s: ProgressSnapshot): EventBytes[] {
  return s.jobBytes ? [s.jobBytes] : Object.values(s.roundBytes);
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Bytes so far; undefined before the first round (or job) reported any. */
export function communicationOf(s: ProgressSnapshot | undefined): Communication | undefined {
  const bytes = s ? reports(s) : [];
  if (bytes.length === 0) return undefined;
  const up = sum(bytes.map((b) => b.up));
  const down = sum(bytes.map((b) => b.down));
  const out: Communication = { total: up + down, totalHuman: humanBytes(up + down), up, down };
  if (!bytes.every((b) => b.upByKind && b.downByKind)) return out;
  for (const [kind, upField, downField] of KIND_FIELDS) {
    out[upField] = sum(bytes.map((b) => b.upByKind![kind] ?? 0));
    out[downField] = sum(bytes.map((b) => b.downByKind![kind] ?? 0));
  }
  return out;
}
