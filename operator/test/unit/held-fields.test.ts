// Which rejected fields of an unreadable stored status the status write leaves as stored while the
// job's event stream has not been replayed (ADR 0023, amendments 7 and 8), and the status it then writes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { heldFields, withHeldFields } from "../../src/status/held-fields.js";
import { readStoredStatus } from "../../src/status/stored-status.js";

/** The fields held for a stored status, as the reconciler finds its rejected ones. */
const heldFor = (status: Record<string, unknown>): string[] => {
  const read = readStoredStatus({ status });
  assert.equal(read.readable, false, "the case's status does not read");
  return read.readable ? [] : heldFields(read.rejected, read.kept);
};

const cases: { name: string; status: Record<string, unknown>; held: string[] }[] = [
  {
    name: "a round past 2^53 holds the round and the round/rounds column with it",
    status: { phase: "Running", round: 2 ** 53, progress: "1/3" },
    held: ["progress", "round"],
  },
  {
    name: "bytes past 2^53 hold the communication",
    status: { phase: "Succeeded", communication: { total: 2 ** 60 } },
    held: ["communication"],
  },
  {
    name: "a best round past 2^53 holds nothing: the other metrics read, and are written as read",
    status: { metrics: { loss: 1, bestRound: 2 ** 53 } },
    held: [],
  },
  {
    name: "one byte count past 2^53 beside others that read holds nothing",
    status: { communication: { total: 2 ** 60, totalHuman: "1 EiB", up: 200 } },
    held: [],
  },
  {
    name: "a checkpoint round past 2^53 holds the last checkpoint",
    status: { lastCheckpoint: { round: 2 ** 53, object: "checkpoints/x" } },
    held: ["lastCheckpoint"],
  },
  {
    name: "a time the reconciler computes itself holds nothing",
    status: { phase: "Succeeded", completionTime: "2026-11-28t05:00:00z", startTime: "2026-11-28t04:00:00z" },
    held: [],
  },
  {
    name: "a round and a time hold the round only",
    status: { round: 2 ** 53, startTime: "2026-11-28t04:00:00z" },
    held: ["progress", "round"],
  },
];

for (const c of cases) test(c.name, () => assert.deepEqual(heldFor(c.status), c.held));

test("the status written keeps the held fields as stored, and leaves out one the stored status lacks", () => {
  const next = {
    phase: "Succeeded" as const,
    round: 0,
    rounds: 2,
    progress: "0/2",
    startTime: "2026-11-28T04:00:00Z",
  };
  const stored = { phase: "Succeeded", round: 2 ** 53, rounds: 2, startTime: "2026-11-28t04:00:00z" };
  assert.deepEqual(withHeldFields(next, stored, ["progress", "round"]), {
    phase: "Succeeded",
    round: 2 ** 53,
    rounds: 2,
    startTime: "2026-11-28T04:00:00Z",
  });
  assert.equal(withHeldFields(next, stored, []), next, "nothing held: the computed status as it is");
});
