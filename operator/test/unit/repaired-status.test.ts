// Of a stored status that does not read, what other records give back: the startTime from the
// Suspended condition or the oldest client pod, a finished job's condition from the stored entry's
// reason and message or the best known, the rounds from the ConfigMap's run config, a client's
// restarts from its pod's name (ADR 0023, amendment 9). The stored statuses go through
// readStoredStatus, as the reconciler reads them.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Status } from "@sfprompt/api";
import { childNames } from "../../src/names.js";
import { FAILURE_REASON_LOST, repairedStatus } from "../../src/status/repaired-status.js";
import { readStoredStatus, usableStatus } from "../../src/status/stored-status.js";

const NOW = new Date("2026-11-29T04:00:00.000Z");
const START = "2026-11-29T01:00:00.000Z";
const FINISH = "2026-11-29T02:00:00.000Z";
const POD_CREATED = "2026-11-29T01:00:00.000Z";
const BAD = "2026-11-29T01:00:00+99:99";

const cond = (type: string, status: "True" | "False", reason: string, at: string, message = "") => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: at,
});

/** The stored status read and repaired as the reconciler does. */
function repair(stored: Record<string, unknown>, firstPodCreatedAt?: string): Status | undefined {
  const read = readStoredStatus({ status: stored });
  return repairedStatus({
    previous: usableStatus(read),
    stored,
    rejected: read.readable ? [] : read.rejected,
    firstPodCreatedAt,
    now: NOW,
  });
}

const cases: {
  name: string;
  stored: Record<string, unknown>;
  firstPodCreatedAt?: string;
  startTime?: string;
  finished?: { reason: string; message: string; lastTransitionTime: string };
}[] = [
  {
    name: "a startTime that does not read is the time the Suspended condition turned False",
    stored: {
      phase: "Running",
      startTime: BAD,
      conditions: [cond("Suspended", "False", "NotSuspended", START)],
    },
    firstPodCreatedAt: "2026-11-29T03:00:00.000Z",
    startTime: START,
  },
  {
    name: "without a Suspended condition that reads, it is the oldest client pod's creation time",
    stored: {
      phase: "Running",
      startTime: BAD,
      conditions: [cond("Suspended", "False", "NotSuspended", BAD)],
    },
    firstPodCreatedAt: POD_CREATED,
    startTime: POD_CREATED,
  },
  {
    name: "a job that is suspended has no startTime to give back (its resume starts the clock)",
    stored: {
      phase: "Suspended",
      startTime: BAD,
      conditions: [cond("Suspended", "True", "SuspendedBySpec", START)],
    },
    firstPodCreatedAt: POD_CREATED,
  },
  {
    name: "with neither, none is given back (the lifecycle takes now)",
    stored: { phase: "Running", startTime: BAD },
  },
  {
    name: "a Failed condition whose time does not read keeps its reason and message, at the completionTime",
    stored: {
      phase: "Failed",
      completionTime: FINISH,
      conditions: [cond("Failed", "True", "DeadlineExceeded", BAD, "the job ran longer than 60 s")],
    },
    finished: {
      reason: "DeadlineExceeded",
      message: "the job ran longer than 60 s",
      lastTransitionTime: FINISH,
    },
  },
  {
    name: "an InvalidSpec failure is kept as one, so a fixed spec lets the job carry on",
    stored: { phase: "Failed", conditions: [cond("Failed", "True", "InvalidSpec", BAD, "spec.x: bad")] },
    finished: { reason: "InvalidSpec", message: "spec.x: bad", lastTransitionTime: NOW.toISOString() },
  },
  {
    name: "a Failed condition whose reason does not read either says the reason is lost",
    stored: {
      phase: "Failed",
      completionTime: FINISH,
      conditions: [cond("Failed", "True", "no reason", BAD)],
    },
    finished: {
      reason: FAILURE_REASON_LOST,
      message:
        "the job had failed; why was in its stored Failed condition, which did not read and is lost (the job's Warning events of the time may say)",
      lastTransitionTime: FINISH,
    },
  },
  {
    name: "a Succeeded job without its condition gets the one the operator writes on success",
    stored: {
      phase: "Succeeded",
      round: 5,
      completionTime: FINISH,
      conditions: [cond("Succeeded", "True", "x y", BAD)],
    },
    finished: {
      reason: "TrainingCompleted",
      message: "training finished after round 5",
      lastTransitionTime: FINISH,
    },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const out = repair(c.stored, c.firstPodCreatedAt);
    assert.equal(out?.startTime, c.startTime);
    const phase = out?.phase;
    const finished = out?.conditions?.find(
      (x) => x.type === phase && (phase === "Failed" || phase === "Succeeded"),
    );
    assert.deepEqual(finished, c.finished && { type: phase, status: "True", ...c.finished });
  });
}

test("a status that reads is left as it is, whatever it lacks", () => {
  const stored = { phase: "Failed" as const, conditions: [] };
  assert.deepEqual(repairedStatus({ previous: stored, stored, rejected: [], now: NOW }), stored);
});

test("rounds that do not read are the run config's on the ConfigMap, the restarts of a client its pod name's", () => {
  const long = "j".repeat(250);
  const stored = {
    phase: "Failed",
    rounds: 2 ** 53,
    clients: [
      { index: 0, phase: "Unknown", pod: "job-client-0-r2", restarts: 2 ** 53 },
      { index: 1, phase: "Unknown", pod: "job-client-1", restarts: 2 ** 53 },
      { index: 2, phase: "Failed", restarts: 2 ** 53 },
      { index: 3, phase: "Unknown", pod: "job-client-3-r1", restarts: 1 },
      { index: 4, phase: "Unknown", pod: "other-client-4-r2", restarts: 2 ** 53 },
    ],
  };
  const read = readStoredStatus({ status: stored });
  const out = repairedStatus({
    previous: usableStatus(read),
    stored,
    rejected: read.readable ? [] : read.rejected,
    renderedRounds: 7,
    clientPod: childNames("job").clientPod,
    now: NOW,
  });
  assert.equal(out?.rounds, 7);
  assert.deepEqual(
    out?.clients?.map((c) => c.restarts),
    [2, 0, undefined, 1, undefined],
    "no pod name, or another job's, gives nothing",
  );
  // a name shortened with a hash is not the attempt's: nothing is read from it
  const hashed = childNames(long).clientPod(0, 3);
  const cut = repairedStatus({
    previous: { clients: [{ index: 0, phase: "Unknown", pod: hashed }] },
    stored: {},
    rejected: ["clients"],
    clientPod: childNames(long).clientPod,
    now: NOW,
  });
  assert.doesNotMatch(hashed, /-r3$/);
  assert.equal(cut?.clients?.[0]?.restarts, undefined);
});
