// How a finished job finished, recorded on its ConfigMap in the reconcile it finishes in, and read back
// where the stored status lost it: the phase (a status removed or rewritten), or the Failed reason
// (FailureReasonLost); a terminal that reads is kept. Events say what was read back and from where
// (ADR 0023, amendment 18).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Status } from "@sfprompt/api";
import { recordedOutcome, type OutcomeRecord } from "../../src/desired/outcome-record.js";
import { ANNOTATION_FINISHED_OUTCOME } from "../../src/names.js";
import { transitionEvents } from "../../src/reconcile/transition-events.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { computeStatus } from "../../src/status/compute-status.js";
import { decideLifecycle, type LifecycleInput } from "../../src/status/lifecycle.js";
import { FAILURE_REASON_LOST } from "../../src/status/repaired-status.js";
import { job } from "../fixtures.js";
import { childrenFor } from "../reconcile-children.js";

const NOW = new Date("2026-01-01T02:00:00.000Z");
const STARTED = "2026-01-01T00:00:00.000Z";
const FAILED_AT = "2026-01-01T01:00:00.000Z";
const DEADLINE = "the job ran longer than spec.activeDeadlineSeconds (60 s)";

const deadlineRecord: OutcomeRecord = {
  phase: "Failed",
  reason: "DeadlineExceeded",
  message: DEADLINE,
  completionTime: FAILED_AT,
  startTime: STARTED,
};

const configMap = (annotation: string | undefined): V1ConfigMap => ({
  metadata: annotation === undefined ? {} : { annotations: { [ANNOTATION_FINISHED_OUTCOME]: annotation } },
});

const failedWith = (reason: string, extra: Partial<Status> = {}): Status => ({
  phase: "Failed",
  startTime: STARTED,
  completionTime: FAILED_AT,
  observedGeneration: 1,
  conditions: [
    { type: "Failed", status: "True", reason, message: "stored text", lastTransitionTime: FAILED_AT },
  ],
  ...extra,
});

const decide = (over: Partial<LifecycleInput>): ReturnType<typeof decideLifecycle> =>
  decideLifecycle({
    job: job("demo", { clients: { count: 1 }, activeDeadlineSeconds: 3600 }),
    previous: undefined,
    progress: undefined,
    plans: [],
    now: NOW,
    ...over,
  });

describe("the record a finished job's ConfigMap carries", () => {
  test("the reconcile a job fails in by its deadline records the outcome it decided, and it reads back as it was", () => {
    const j = job("demo", { clients: { count: 1 }, activeDeadlineSeconds: 60 });
    const finishing = childrenFor({ job: j, now: NOW, previous: { phase: "Running", startTime: STARTED } });
    assert.equal(finishing.lifecycle.terminal?.reason, "DeadlineExceeded");
    const cm = finishing.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap;
    assert.deepEqual(recordedOutcome(cm), {
      phase: "Failed",
      reason: "DeadlineExceeded",
      message: DEADLINE,
      completionTime: NOW.toISOString(),
      startTime: STARTED,
    });
    const running = childrenFor({ job: j, now: new Date(STARTED), previous: undefined });
    const runningCm = running.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap;
    assert.equal(recordedOutcome(runningCm), undefined, "a job that runs has none");
  });

  const unreadable: { name: string; annotation: string }[] = [
    { name: "not JSON", annotation: "{phase: Failed" },
    {
      name: "a phase that is not a finished one",
      annotation: JSON.stringify({ ...deadlineRecord, phase: "Running" }),
    },
    {
      name: "a reason no condition can hold",
      annotation: JSON.stringify({ ...deadlineRecord, reason: "ran out" }),
    },
    { name: "no message", annotation: JSON.stringify({ ...deadlineRecord, message: undefined }) },
    {
      name: "a message longer than a condition holds",
      annotation: JSON.stringify({ ...deadlineRecord, message: "x".repeat(32769) }),
    },
    {
      name: "a completion time that is no RFC 3339 time",
      annotation: JSON.stringify({ ...deadlineRecord, completionTime: "Jan 1 2026" }),
    },
  ];
  for (const c of unreadable) {
    test(`a record edited into ${c.name} is none`, () => {
      assert.equal(recordedOutcome(configMap(c.annotation)), undefined);
    });
  }

  test("a start time that does not read is left out, the rest kept", () => {
    const r = recordedOutcome(configMap(JSON.stringify({ ...deadlineRecord, startTime: "+99:99" })));
    assert.deepEqual(r, withoutStart(deadlineRecord));
  });

  test("the round kept reads back; one that is no round a status holds is left out, the rest kept", () => {
    const read = (round: unknown): OutcomeRecord | undefined =>
      recordedOutcome(configMap(JSON.stringify({ ...deadlineRecord, round })));
    assert.deepEqual(read(2), { ...deadlineRecord, round: 2 });
    assert.deepEqual(read(0), { ...deadlineRecord, round: 0 });
    for (const bad of [-1, 1.5, "2", null]) assert.deepEqual(read(bad), deadlineRecord, JSON.stringify(bad));
  });

  test("the round a finished job's status had is kept in its record, and given back to a status lost with NATS away", () => {
    const j = job("demo", { clients: { count: 1 }, training: { rounds: 4 } });
    const record = { ...deadlineRecord, reason: "ModelNotFound", message: "no model", round: 2 };
    const lifecycle = decide({ job: j, recorded: record, markedFinished: true });
    const status = computeStatus({
      job: { ...j, status: undefined },
      lifecycle,
      deployment: undefined,
      plans: [],
      progress: undefined,
      now: NOW,
      ranWithRounds: 4,
      recordedRound: record.round,
    });
    assert.deepEqual([status.phase, status.round, status.progress], ["Failed", 2, "2/4"]);
  });
});

function withoutStart(r: OutcomeRecord): OutcomeRecord {
  const { startTime: _s, ...rest } = r;
  return rest;
}

const lifecycleCases: {
  name: string;
  previous: Status | undefined;
  recorded: OutcomeRecord | undefined;
  progress?: ProgressSnapshot;
  expect: { phase?: string; reason?: string; completionTime?: string; startTime?: string; readBack?: string };
}[] = [
  {
    name: "no status and a record: Failed with the recorded reason and times, read back from the record",
    previous: undefined,
    recorded: deadlineRecord,
    expect: {
      phase: "Failed",
      reason: "DeadlineExceeded",
      completionTime: FAILED_AT,
      startTime: STARTED,
      readBack: "record",
    },
  },
  {
    name: "a status rewritten to Running, without conditions: Failed again, as recorded",
    previous: { phase: "Running" },
    recorded: deadlineRecord,
    expect: {
      phase: "Failed",
      reason: "DeadlineExceeded",
      completionTime: FAILED_AT,
      startTime: STARTED,
      readBack: "record",
    },
  },
  {
    name: "a Failed phase without its condition: the recorded reason",
    previous: { phase: "Failed", completionTime: FAILED_AT },
    recorded: { ...deadlineRecord, reason: "ClientsFailed", message: "clients 0 failed" },
    expect: { phase: "Failed", reason: "ClientsFailed", completionTime: FAILED_AT, readBack: "record" },
  },
  {
    name: "FailureReasonLost stored: the recorded reason, the stored completion time",
    previous: failedWith(FAILURE_REASON_LOST, { completionTime: "2026-01-01T01:00:01.000Z" }),
    recorded: deadlineRecord,
    expect: {
      phase: "Failed",
      reason: "DeadlineExceeded",
      completionTime: "2026-01-01T01:00:01.000Z",
      readBack: "record",
    },
  },
  {
    name: "a succeeded job's status removed: Succeeded, as recorded",
    previous: undefined,
    recorded: {
      phase: "Succeeded",
      reason: "TrainingCompleted",
      message: "training finished after round 3",
      completionTime: FAILED_AT,
    },
    expect: {
      phase: "Succeeded",
      reason: "TrainingCompleted",
      completionTime: FAILED_AT,
      readBack: "record",
    },
  },
  {
    name: "a stored reason that reads is kept over the record",
    previous: failedWith("ModelNotFound"),
    recorded: deadlineRecord,
    expect: { phase: "Failed", reason: "ModelNotFound", completionTime: FAILED_AT },
  },
  {
    name: "a record of a lost reason over no status: Failed, FailureReasonLost",
    previous: undefined,
    recorded: { ...deadlineRecord, reason: FAILURE_REASON_LOST, message: "lost" },
    expect: { phase: "Failed", reason: FAILURE_REASON_LOST, completionTime: FAILED_AT, readBack: "record" },
  },
  {
    name: "a record of a lost reason over no status, and the server's job.failed before it: the server's reason",
    previous: undefined,
    recorded: { ...deadlineRecord, reason: FAILURE_REASON_LOST, message: "lost" },
    progress: {
      ...emptySnapshot(),
      outcome: {
        kind: "failed",
        reason: "ModelNotFound",
        message: "no model",
        at: "2026-01-01T00:59:00.000Z",
      },
    },
    expect: { phase: "Failed", reason: "ModelNotFound", completionTime: FAILED_AT, readBack: "stream" },
  },
  {
    name: "no record and no status: the job starts, as before",
    previous: undefined,
    recorded: undefined,
    expect: { startTime: NOW.toISOString() },
  },
];

describe("the lifecycle of a job whose status lost its outcome", () => {
  for (const c of lifecycleCases) {
    test(c.name, () => {
      const life = decide({
        previous: c.previous,
        recorded: c.recorded,
        ...(c.progress ? { progress: c.progress } : {}),
      });
      assert.deepEqual(
        {
          phase: life.terminal?.phase,
          reason: life.terminal?.reason,
          completionTime: life.completionTime,
          startTime: c.expect.startTime === undefined ? undefined : life.startTime,
          readBack: life.readBack,
        },
        {
          phase: c.expect.phase,
          reason: c.expect.reason,
          completionTime: c.expect.completionTime,
          startTime: c.expect.startTime,
          readBack: c.expect.readBack,
        },
      );
    });
  }
});

/** The events of one reconcile of a job whose last status is `previous`, its ConfigMap recording `recorded`. */
function eventsOf(
  previous: Status | undefined,
  recorded: OutcomeRecord | undefined,
  progress?: ProgressSnapshot,
) {
  const j = job("demo", { clients: { count: 1 }, activeDeadlineSeconds: 3600 });
  const lifecycle = decide({ previous, recorded, ...(progress ? { progress } : {}) });
  const next = computeStatus({
    job: { ...j, status: previous },
    lifecycle,
    deployment: undefined,
    plans: [],
    progress,
    now: NOW,
  });
  const events = transitionEvents({
    previous,
    next,
    job: j,
    plans: [],
    restartLimit: 3,
    created: () => false,
    readBack: lifecycle.readBack,
    configMap: "demo-config",
  });
  return { next, events };
}

describe("the events of an outcome read back", () => {
  test("a removed status given back its Failed phase: a Warning OutcomeRestored instead of a new failure's event, the condition at the recorded time", () => {
    const { next, events } = eventsOf(undefined, deadlineRecord);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [["Warning", "OutcomeRestored"]],
    );
    assert.equal(
      events[0]!.message,
      `the stored status had no phase, but the job had failed at ${FAILED_AT}, as the job's ConfigMap demo-config (annotation sfprompt.io/finished-outcome, written as the job finished) says: phase Failed again, DeadlineExceeded: ${DEADLINE}; nothing is started again`,
    );
    assert.equal(next.conditions?.find((c) => c.type === "Failed")?.lastTransitionTime, FAILED_AT);
  });

  test("FailureReasonLost read back from the record: a Normal FailureReasonReadBack, no phase event", () => {
    const { events } = eventsOf(failedWith(FAILURE_REASON_LOST), deadlineRecord);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.message]),
      [
        [
          "Normal",
          "FailureReasonReadBack",
          `the reason the job failed, lost with its stored status (FailureReasonLost), is read back from the job's ConfigMap demo-config (annotation sfprompt.io/finished-outcome, written as the job finished): DeadlineExceeded: ${DEADLINE}`,
        ],
      ],
    );
  });

  test("FailureReasonLost read back from the server's job.failed (amendment 13): the event names the stream", () => {
    const progress: ProgressSnapshot = {
      ...emptySnapshot(),
      outcome: {
        kind: "failed",
        reason: "ModelNotFound",
        message: "no model",
        at: "2026-01-01T00:59:00.000Z",
      },
    };
    const { events } = eventsOf(failedWith(FAILURE_REASON_LOST), undefined, progress);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0]!.reason, "FailureReasonReadBack");
    assert.match(
      events[0]!.message,
      /^the reason the job failed, lost with its stored status \(FailureReasonLost\), is read back from its server's job\.failed on the job's event stream: ModelNotFound: no model\. /,
    );
  });

  test("a stored reason that reads: no read-back event", () => {
    assert.deepEqual(eventsOf(failedWith("ModelNotFound"), deadlineRecord).events, []);
  });
});
