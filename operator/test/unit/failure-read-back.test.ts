// A Failed job whose stored reason was lost (FailureReasonLost) takes its server's job.failed from the
// followed run's event stream once that reads, if the server sent it no later than the job was
// recorded Failed (at the precision of that time: amendment 28); a reason that reads is never replaced
// (ADR 0023, amendment 13).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Status } from "@sfprompt/api";
import { decideLifecycle } from "../../src/status/lifecycle.js";
import { FAILURE_REASON_LOST } from "../../src/status/repaired-status.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { job } from "../fixtures.js";

const NOW = new Date("2026-01-01T02:00:00.000Z");
const FAILED_AT = "2026-01-01T01:00:00.000Z";

function failedWith(reason: string, completionTime: string | undefined = FAILED_AT): Status {
  return {
    phase: "Failed",
    ...(completionTime === undefined ? {} : { completionTime }),
    conditions: [
      { type: "Failed", status: "True", reason, message: "stored text", lastTransitionTime: FAILED_AT },
    ],
  };
}

const serverFailed = (at?: string): ProgressSnapshot => ({
  ...emptySnapshot(),
  outcome: { kind: "failed", reason: "QuorumNotReached", message: "1 of 3 updates", ...(at ? { at } : {}) },
});

const cases: {
  name: string;
  previous: Status;
  progress: ProgressSnapshot | undefined;
  reason: string;
}[] = [
  {
    name: "a lost reason, the server's job.failed sent before the job was recorded Failed: the server's reason",
    previous: failedWith(FAILURE_REASON_LOST),
    progress: serverFailed("2026-01-01T00:59:58.000Z"),
    reason: "QuorumNotReached",
  },
  {
    name: "a lost reason and a lost completionTime: the Failed condition's time tells",
    previous: failedWith(FAILURE_REASON_LOST, undefined),
    progress: serverFailed("2026-01-01T00:59:58.000Z"),
    reason: "QuorumNotReached",
  },
  {
    name: "a lost reason, job.failed sent after the job was recorded Failed (the operator failed it): still lost",
    previous: failedWith(FAILURE_REASON_LOST),
    progress: serverFailed("2026-01-01T01:00:05.000Z"),
    reason: FAILURE_REASON_LOST,
  },
  {
    // ADR 0023 amendment 28: a time of whole seconds (metav1.Time, managedFields) is compared to the second
    name: "a lost reason recorded at a whole second, job.failed later in that second: the server's reason",
    previous: failedWith(FAILURE_REASON_LOST, "2026-01-01T01:00:00Z"),
    progress: serverFailed("2026-01-01T01:00:00.500Z"),
    reason: "QuorumNotReached",
  },
  {
    name: "a lost reason recorded at a time with a fraction, job.failed 1 ms later: still lost",
    previous: failedWith(FAILURE_REASON_LOST, "2026-01-01T01:00:00.950Z"),
    progress: serverFailed("2026-01-01T01:00:00.951Z"),
    reason: FAILURE_REASON_LOST,
  },
  {
    name: "a lost reason, a job.failed without a time: still lost",
    previous: failedWith(FAILURE_REASON_LOST),
    progress: serverFailed(),
    reason: FAILURE_REASON_LOST,
  },
  {
    name: "a lost reason, a run that completed: still lost (a completion does not say why it failed)",
    previous: failedWith(FAILURE_REASON_LOST),
    progress: { ...emptySnapshot(), round: 3, outcome: { kind: "completed", round: 3 } },
    reason: FAILURE_REASON_LOST,
  },
  {
    name: "a lost reason, no replay yet: still lost",
    previous: failedWith(FAILURE_REASON_LOST),
    progress: undefined,
    reason: FAILURE_REASON_LOST,
  },
  {
    name: "a reason that reads (the operator's deadline) and a job.failed before it: kept",
    previous: failedWith("DeadlineExceeded"),
    progress: serverFailed("2026-01-01T00:59:58.000Z"),
    reason: "DeadlineExceeded",
  },
];

for (const c of cases) {
  test(c.name, () => {
    const life = decideLifecycle({
      job: job("demo"),
      previous: c.previous,
      progress: c.progress,
      plans: [],
      now: NOW,
    });
    assert.equal(life.terminal?.phase, "Failed");
    assert.equal(life.terminal.reason, c.reason);
    // the job finished when it did: the read-back reason moves no time
    assert.equal(life.completionTime, c.previous.completionTime ?? FAILED_AT);
    if (c.reason === "QuorumNotReached") assert.match(life.terminal.message, /^1 of 3 updates\. /);
  });
}
