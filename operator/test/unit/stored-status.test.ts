// A job's stored status read with the API's schema: absent, readable, or unreadable with the
// schema's issues as `status.…` paths, the top-level fields they are in, and the status without the
// values they are at, each dropped at the finest level that reads, a lower-case date-time kept in
// upper case (ADR 0023, amendments 8 and 9).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readStoredStatus, usableStatus, type StoredStatus } from "../../src/status/stored-status.js";

const condition = (lastTransitionTime: string, type = "Running") => ({
  type,
  status: "True" as const,
  reason: "RoundsRunning",
  message: "",
  lastTransitionTime,
});

const BIG = 2 ** 53;
const TOO_BIG = "Too big: expected int to be <=9007199254740991";
const DATE = "Invalid ISO datetime";

const cases: { name: string; status: unknown; read: StoredStatus }[] = [
  { name: "no status reads as none", status: undefined, read: { readable: true, status: undefined } },
  {
    name: "the operator's status reads as it is",
    status: { phase: "Running", round: 2 },
    read: { readable: true, status: { phase: "Running", round: 2 } },
  },
  {
    name: "a lower-case date-time (an older CRD stored it) names its path and is kept, the same instant in upper case",
    status: { phase: "Running", round: 2, startTime: "2026-11-28t05:00:00z" },
    read: {
      readable: false,
      status: undefined,
      issues: [{ path: "status.startTime", message: "Invalid ISO datetime" }],
      kept: { phase: "Running", round: 2, startTime: "2026-11-28T05:00:00Z" },
      rejected: ["startTime"],
    },
  },
  {
    name: "a date-time that does not read in either case (an offset of +99:99) names its path and goes",
    status: { phase: "Running", round: 2, startTime: "2026-11-28T05:00:00+99:99" },
    read: {
      readable: false,
      status: undefined,
      issues: [{ path: "status.startTime", message: "Invalid ISO datetime" }],
      kept: { phase: "Running", round: 2 },
      rejected: ["startTime"],
    },
  },
  {
    name: "a condition whose time does not read is dropped, and only that condition",
    status: {
      round: BIG,
      conditions: [condition("2026-11-28T04:00:00Z", "Failed"), condition("2026-11-28T05:00:00+99:99")],
      rounds: 3,
      startTime: "2026-11-28T04:00:00Z",
    },
    read: {
      readable: false,
      status: undefined,
      issues: [
        { path: "status.conditions[1].lastTransitionTime", message: DATE },
        { path: "status.round", message: TOO_BIG },
      ],
      kept: {
        conditions: [condition("2026-11-28T04:00:00Z", "Failed")],
        rounds: 3,
        startTime: "2026-11-28T04:00:00Z",
      },
      rejected: ["conditions", "round"],
    },
  },
  {
    name: "an optional field inside an item goes, and the item with its other fields stays",
    status: {
      conditions: [{ ...condition("2026-11-28T04:00:00Z"), observedGeneration: BIG }],
      clients: [
        { index: 0, phase: "Running", restarts: BIG, pod: "j-client-0-r2" },
        { index: 1, phase: "Running", restarts: 1 },
      ],
    },
    read: {
      readable: false,
      status: undefined,
      issues: [
        { path: "status.clients[0].restarts", message: TOO_BIG },
        { path: "status.conditions[0].observedGeneration", message: TOO_BIG },
      ],
      kept: {
        conditions: [condition("2026-11-28T04:00:00Z")],
        clients: [
          { index: 0, phase: "Running", pod: "j-client-0-r2" },
          { index: 1, phase: "Running", restarts: 1 },
        ],
      },
      rejected: ["clients", "conditions"],
    },
  },
  {
    name: "a best round past 2^53 leaves the other metrics, a checkpoint round the checkpoint out",
    status: {
      metrics: { loss: 0.5, accuracy: 0.75, bestAccuracy: 0.8, bestRound: BIG },
      lastCheckpoint: { round: BIG, object: "checkpoints/x" },
      server: { instance: "s-0", readyTime: "2026-11-28t05:00:00z" },
    },
    read: {
      readable: false,
      status: undefined,
      issues: [
        { path: "status.lastCheckpoint.round", message: TOO_BIG },
        { path: "status.metrics.bestRound", message: TOO_BIG },
        { path: "status.server.readyTime", message: DATE },
      ],
      kept: {
        metrics: { loss: 0.5, accuracy: 0.75, bestAccuracy: 0.8 },
        server: { instance: "s-0", readyTime: "2026-11-28T05:00:00Z" },
      },
      rejected: ["lastCheckpoint", "metrics", "server"],
    },
  },
  {
    name: "every client entry that does not read goes, whatever its place in the list",
    status: {
      clients: [
        { index: BIG, phase: "Running" },
        { index: 1, phase: "Running" },
        { index: 2, phase: "Running", lastRound: BIG, samples: BIG },
        { index: BIG + 2, phase: "Running" },
      ],
    },
    read: {
      readable: false,
      status: undefined,
      issues: [
        { path: "status.clients[0].index", message: TOO_BIG },
        { path: "status.clients[2].lastRound", message: TOO_BIG },
        { path: "status.clients[2].samples", message: TOO_BIG },
        { path: "status.clients[3].index", message: TOO_BIG },
      ],
      kept: {
        clients: [
          { index: 1, phase: "Running" },
          { index: 2, phase: "Running" },
        ],
      },
      rejected: ["clients"],
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
