// A job's stored status read with the API's schema: absent, readable, or unreadable with the
// schema's issues as `status.…` paths, the top-level fields they are in, and the status without them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readStoredStatus, usableStatus, type StoredStatus } from "../../src/status/stored-status.js";

const condition = (lastTransitionTime: string) => ({
  type: "Running",
  status: "True",
  reason: "RoundsRunning",
  message: "",
  lastTransitionTime,
});

const cases: { name: string; status: unknown; read: StoredStatus }[] = [
  { name: "no status reads as none", status: undefined, read: { readable: true, status: undefined } },
  {
    name: "the operator's status reads as it is",
    status: { phase: "Running", round: 2 },
    read: { readable: true, status: { phase: "Running", round: 2 } },
  },
  {
    name: "a lower-case date-time (an older CRD stored it) names its path and keeps the other fields",
    status: { phase: "Running", round: 2, startTime: "2026-11-28t05:00:00z" },
    read: {
      readable: false,
      status: undefined,
      issues: [{ path: "status.startTime", message: "Invalid ISO datetime" }],
      kept: { phase: "Running", round: 2 },
      rejected: ["startTime"],
    },
  },
  {
    name: "an issue inside a list names the item and drops the whole top-level field",
    status: { round: 9007199254740992, conditions: [condition("2026-11-28t05:00:00z")], rounds: 3 },
    read: {
      readable: false,
      status: undefined,
      issues: [
        { path: "status.conditions[0].lastTransitionTime", message: "Invalid ISO datetime" },
        { path: "status.round", message: "Too big: expected int to be <=9007199254740991" },
      ],
      kept: { rounds: 3 },
      rejected: ["conditions", "round"],
    },
  },
  {
    name: "a status that is not an object keeps nothing",
    status: "Running",
    read: {
      readable: false,
      status: undefined,
      issues: [{ path: "status", message: "Invalid input: expected object, received string" }],
      kept: undefined,
      rejected: [],
    },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const read = readStoredStatus({ status: c.status });
    const sorted =
      read.readable || read.issues.length < 2
        ? read
        : { ...read, issues: [...read.issues].sort((a, b) => a.path.localeCompare(b.path)) };
    assert.deepEqual(sorted, c.read);
    assert.deepEqual(usableStatus(read), c.read.readable ? c.read.status : c.read.kept);
  });
}
