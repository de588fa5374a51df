// The status after run.resumed (ADR 0046): a job going on from another job's checkpoint shows that
// job's round and name at once, with none of its bytes; a server restart resuming from the job's own
// checkpoint moves the round neither back nor counts a byte twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Status } from "@sfprompt/api";
import type { ProgressEvent } from "@sfprompt/protocol";
import { planClients } from "../../src/desired/restart-plan.js";
import { applyProgressEvent } from "../../src/progress/events.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { computeStatus } from "../../src/status/compute-status.js";
import { decideLifecycle } from "../../src/status/lifecycle.js";
import { job } from "../fixtures.js";

const NOW = new Date("2026-01-01T01:00:00.000Z");
const at = "2026-01-01T00:00:00Z";

/** Events of job B under run attempt `attempt`. */
function eventsOf(attempt: string): {
  resumed: (
    round: number,
    o?: {
      own?: boolean;
      inherited?: boolean;
      loss?: number;
      accuracy?: number;
      best?: { round: number; accuracy: number };
    },
  ) => ProgressEvent;
  round: (r: number, accuracy?: number) => ProgressEvent;
  checkpoint: (r: number) => ProgressEvent;
} {
  const base = { v: 1 as const, job: "default_b", at, attempt };
  return {
    resumed: (round, { own = false, inherited = true, loss, accuracy, best } = {}) => ({
      ...base,
      type: "run.resumed",
      round,
      bucket: own ? "sfp-default_b-artifacts" : "sfp-default_a-artifacts",
      object: `checkpoints/round-${round}`,
      ...(own ? {} : { from: { job: "a", bucket: "sfp-default_a-artifacts" } }),
      ...(inherited ? { inherited: { job: "a", round: 2 } } : {}),
      ...(loss !== undefined ? { loss } : {}),
      ...(accuracy !== undefined ? { accuracy } : {}),
      ...(best !== undefined ? { best } : {}),
    }),
    round: (r, accuracy = 0.5) => ({
      ...base,
      type: "round.finished",
      round: r,
      loss: 1 / r,
      accuracy,
      participants: ["client-0"],
      samples: 10,
      bytes: { up: 100, down: 10, byKind: {} },
      durationMs: 5,
    }),
    checkpoint: (r) => ({
      ...base,
      type: "checkpoint.written",
      round: r,
      bucket: "sfp-default_b-artifacts",
      object: `checkpoints/round-${r}`,
      size: 9,
    }),
  };
}

/** The status the operator writes for job B (4 rounds, resumeFrom a) once `events` are folded. */
function statusAfter(events: readonly ProgressEvent[]): Status {
  const progress: ProgressSnapshot = events.reduce(
    (s, e, i) => applyProgressEvent(s, e, i + 1),
    emptySnapshot(),
  );
  const j = job("b", {
    clients: { count: 2 },
    training: { rounds: 4 },
    output: { resumeFrom: { job: "a" } },
  });
  const plans = planClients(2, [], { limit: 1, baseMs: 1000, maxMs: 1000 }, NOW.getTime());
  const lifecycle = decideLifecycle({ job: j, previous: undefined, progress, plans, now: NOW });
  const status = computeStatus({ job: j, lifecycle, deployment: undefined, plans, progress, now: NOW });
  return status as Status;
}

const b1 = eventsOf("b1");
const b2 = eventsOf("b2");

const cases: {
  name: string;
  events: ProgressEvent[];
  want: Pick<Status, "round" | "progress" | "resumedFrom" | "lastCheckpoint"> & { total?: number };
}[] = [
  {
    name: "B going on from A's round 2 shows round 2 and A at once, with none of its own bytes yet",
    events: [b1.resumed(2)],
    want: { round: 2, progress: "2/4", resumedFrom: { job: "a", round: 2 } },
  },
  {
    name: "B's own round 3 goes on from there, counting only its bytes",
    events: [b1.resumed(2), b1.round(3)],
    want: { round: 3, progress: "3/4", resumedFrom: { job: "a", round: 2 }, total: 110 },
  },
  {
    name: "B restarted from its own round-3 checkpoint stays at round 3, A still named, bytes counted once",
    events: [b1.resumed(2), b1.round(3), b1.checkpoint(3), b1.resumed(3, { own: true })],
    want: {
      round: 3,
      progress: "3/4",
      resumedFrom: { job: "a", round: 2 },
      lastCheckpoint: { round: 3, object: "checkpoints/round-3" },
      total: 110,
    },
  },
  {
    name: "a restart from an own checkpoint older than the rounds reported does not move the round back",
    events: [
      b1.round(1),
      b1.round(2),
      b1.checkpoint(2),
      b1.round(3),
      b1.resumed(2, { own: true, inherited: false }),
    ],
    want: {
      round: 3,
      progress: "3/4",
      lastCheckpoint: { round: 2, object: "checkpoints/round-2" },
      total: 330,
    },
  },
  {
    name: "the round run again after that restart replaces its first run's bytes (ADR 0043)",
    events: [
      b1.round(1),
      b1.round(2),
      b1.checkpoint(2),
      b1.round(3),
      b1.resumed(2, { own: true, inherited: false }),
      b1.round(3),
    ],
    want: {
      round: 3,
      progress: "3/4",
      lastCheckpoint: { round: 2, object: "checkpoints/round-2" },
      total: 330,
    },
  },
  {
    name: "B restarted before its first checkpoint (a new attempt) goes on from A's round 2 again, its bytes dropped",
    events: [b1.resumed(2), b1.round(3), b2.resumed(2)],
    want: { round: 2, progress: "2/4", resumedFrom: { job: "a", round: 2 } },
  },
  {
    name: "an own checkpoint the stream holds no checkpoint.written of becomes status.lastCheckpoint",
    events: [b1.resumed(3, { own: true })],
    want: {
      round: 3,
      progress: "3/4",
      resumedFrom: { job: "a", round: 2 },
      lastCheckpoint: { round: 3, object: "checkpoints/round-3" },
    },
  },
];

for (const c of cases)
  test(c.name, () => {
    const s = statusAfter(c.events);
    const got = {
      round: s.round,
      progress: s.progress,
      ...(s.resumedFrom !== undefined ? { resumedFrom: s.resumedFrom } : {}),
      ...(s.lastCheckpoint !== undefined ? { lastCheckpoint: s.lastCheckpoint } : {}),
      ...(s.communication !== undefined ? { total: s.communication.total } : {}),
    };
    assert.deepEqual(got, c.want);
  });

test("a finished job keeps the source it went on from after its progress view is gone", () => {
  const previous = statusAfter([b1.resumed(2), b1.round(3)]);
  const j = {
    ...job("b", { clients: { count: 2 }, training: { rounds: 4 }, output: { resumeFrom: { job: "a" } } }),
    status: { ...previous, phase: "Succeeded" as const },
  };
  const plans = planClients(2, [], { limit: 1, baseMs: 1000, maxMs: 1000 }, NOW.getTime());
  const lifecycle = decideLifecycle({ job: j, previous: j.status, progress: undefined, plans, now: NOW });
  const s = computeStatus({ job: j, lifecycle, deployment: undefined, plans, progress: undefined, now: NOW });
  assert.deepEqual(s.resumedFrom, { job: "a", round: 2 });
});

// The checkpoint round's loss and accuracy, as run.resumed carries them (ADR 0046, amendment 3).
const fromCheckpoint = { loss: 0.25, accuracy: 0.75 };

const metricsCases: { name: string; events: ProgressEvent[]; want: Status["metrics"] }[] = [
  {
    name: "B going on from A's round 2 shows the loss and accuracy of A's round 2 until its own round finishes",
    events: [b1.resumed(2, fromCheckpoint)],
    want: fromCheckpoint,
  },
  {
    name: "B's own round 3 replaces them",
    events: [b1.resumed(2, fromCheckpoint), b1.round(3)],
    want: { loss: 1 / 3, accuracy: 0.5, bestAccuracy: 0.5, bestRound: 3 },
  },
  {
    name: "a checkpoint past the last round.finished (never sent) gives its round's loss and accuracy, not the round before's",
    events: [b1.round(1), b1.round(2), b1.resumed(3, { own: true, inherited: false, ...fromCheckpoint })],
    want: { ...fromCheckpoint, bestAccuracy: 0.5, bestRound: 1 },
  },
  {
    name: "a checkpoint older than the rounds reported leaves the latest round's loss and accuracy",
    events: [
      b1.round(1),
      b1.round(2),
      b1.round(3),
      b1.resumed(2, { own: true, inherited: false, ...fromCheckpoint }),
    ],
    want: { loss: 1 / 3, accuracy: 0.5, bestAccuracy: 0.5, bestRound: 1 },
  },
  {
    name: "a run.resumed without them (an older server) leaves what the status had",
    events: [b1.round(1), b1.round(2), b1.resumed(3, { own: true, inherited: false })],
    want: { loss: 1 / 2, accuracy: 0.5, bestAccuracy: 0.5, bestRound: 1 },
  },
];

for (const c of metricsCases) test(c.name, () => assert.deepEqual(statusAfter(c.events).metrics, c.want));

// The best of the checkpoint's rounds, as run.resumed carries it (ADR 0046, amendment 5).
const own = { own: true, inherited: false, ...fromCheckpoint };
const best = (round: number, accuracy: number): { best: { round: number; accuracy: number } } => ({
  best: { round, accuracy },
});

const bestCases: { name: string; events: ProgressEvent[]; want: Status["metrics"] }[] = [
  {
    name: "a lost stream: the resumed run's status has the best of the checkpoint's rounds, not none",
    events: [b1.resumed(3, { ...own, ...best(2, 0.8) })],
    want: { ...fromCheckpoint, bestAccuracy: 0.8, bestRound: 2 },
  },
  {
    name: "a lost stream: a round after the resume below that best leaves it",
    events: [b1.resumed(3, { ...own, ...best(2, 0.8) }), b1.round(4, 0.6)],
    want: { loss: 1 / 4, accuracy: 0.6, bestAccuracy: 0.8, bestRound: 2 },
  },
  {
    name: "a lost stream: a round after the resume above that best takes over",
    events: [b1.resumed(3, { ...own, ...best(2, 0.8) }), b1.round(4, 0.9)],
    want: { loss: 1 / 4, accuracy: 0.9, bestAccuracy: 0.9, bestRound: 4 },
  },
  {
    name: "a lost stream: a round after the resume as good as that best leaves the earlier round",
    events: [b1.resumed(3, { ...own, ...best(2, 0.8) }), b1.round(4, 0.8)],
    want: { loss: 1 / 4, accuracy: 0.8, bestAccuracy: 0.8, bestRound: 2 },
  },
  {
    name: "a round after the checkpoint run again keeps the checkpoint's best (ADR 0043)",
    events: [
      b1.resumed(3, { ...own, ...best(2, 0.8) }),
      b1.round(4, 0.9),
      b1.resumed(3, { ...own, ...best(2, 0.8) }),
      b1.round(4, 0.6),
    ],
    want: { loss: 1 / 4, accuracy: 0.6, bestAccuracy: 0.8, bestRound: 2 },
  },
  {
    name: "a stream that holds the checkpoint's rounds keeps their best",
    events: [
      b1.round(1, 0.4),
      b1.round(2, 0.8),
      b1.round(3, 0.7),
      b1.resumed(3, { ...own, ...best(2, 0.8) }),
    ],
    want: { loss: 1 / 3, accuracy: 0.7, bestAccuracy: 0.8, bestRound: 2 },
  },
  {
    name: "a round reported after the checkpoint above its best stays until its re-run takes it back",
    events: [
      b1.round(1, 0.4),
      b1.round(2, 0.8),
      b1.round(3, 0.9),
      b1.resumed(2, { ...own, ...best(2, 0.8) }),
    ],
    want: { loss: 1 / 3, accuracy: 0.9, bestAccuracy: 0.9, bestRound: 3 },
  },
  {
    name: "B restarted from its own checkpoint keeps the best of its own rounds, not of A's",
    events: [b1.resumed(3, { own: true, ...fromCheckpoint, ...best(3, 0.75) })],
    want: { ...fromCheckpoint, bestAccuracy: 0.75, bestRound: 3 },
  },
];

for (const c of bestCases) test(c.name, () => assert.deepEqual(statusAfter(c.events).metrics, c.want));
