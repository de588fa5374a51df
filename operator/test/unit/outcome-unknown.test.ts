// A finished job whose ConfigMap records only that it finished (the spec record of an operator that
// wrote no outcome record) and whose status lost how: held as Failed with OutcomeUnknown, not started
// again, until the followed stream says how it ended; the record is written from a status that reads,
// and a record of a lost reason is replaced by a reason read back, never the reverse (ADR 0023,
// amendment 21).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Status } from "@sfprompt/api";
import { recordedOutcome, type OutcomeRecord } from "../../src/desired/outcome-record.js";
import { desiredChildren } from "../../src/desired/children.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { clientsNotice, decideLifecycle, type LifecycleInput } from "../../src/status/lifecycle.js";
import { FAILURE_REASON_LOST } from "../../src/status/repaired-status.js";
import { ANNOTATION_FINISHED_OUTCOME, ANNOTATION_FINISHED_SPEC } from "../../src/names.js";
import { job } from "../fixtures.js";
import { parseConfig } from "../../src/config.js";

const NOW = new Date("2026-01-01T02:00:00.000Z");
const HELD_AT = "2026-01-01T01:30:00.000Z";

const decide = (over: Partial<LifecycleInput>): ReturnType<typeof decideLifecycle> =>
  decideLifecycle({
    job: job("demo", { clients: { count: 1 } }),
    previous: undefined,
    progress: undefined,
    plans: [],
    now: NOW,
    ...over,
  });

const progressWith = (outcome: ProgressSnapshot["outcome"]): ProgressSnapshot => ({
  ...emptySnapshot(),
  ...(outcome ? { outcome } : {}),
});

const heldStatus: Status = {
  phase: "Failed",
  completionTime: HELD_AT,
  conditions: [
    {
      type: "Failed",
      status: "True",
      reason: "OutcomeUnknown",
      message: "held",
      lastTransitionTime: HELD_AT,
    },
  ],
};

describe("a finished-spec without an outcome record", () => {
  test("a status without a phase: Failed, OutcomeUnknown, from the spec record, no start time made up", () => {
    const life = decide({ markedFinished: true });
    assert.equal(life.terminal?.phase, "Failed");
    assert.equal(life.terminal?.reason, "OutcomeUnknown");
    assert.match(life.terminal?.message ?? "", /it is not started again/);
    assert.equal(life.readBack, "spec-record");
    assert.equal(life.startTime, undefined);
    assert.equal(life.completionTime, NOW.toISOString());
    assert.equal(clientsNotice(life.terminal!), "unknown");
  });

  test("its ConfigMap's last write by the operator is its completionTime, and the TTL counts from it", () => {
    const wrote = "2026-01-01T01:00:00.000Z";
    const at = (ttl: number): ReturnType<typeof decideLifecycle> =>
      decide({
        markedFinished: true,
        recordWrittenAt: wrote,
        job: job("demo", { clients: { count: 1 }, ttlSecondsAfterFinished: ttl }),
      });
    assert.equal(at(7200).completionTime, wrote);
    // an hour after it was written, NOW: a TTL of two hours has one left, one of 30 minutes ran out
    assert.equal(at(7200).requeueAfterMs, 3600_000);
    assert.equal(at(1800).expired, true);
    // a status or an outcome record that gives a time wins
    const previous: Status = { phase: "Running", completionTime: HELD_AT };
    assert.equal(decide({ markedFinished: true, recordWrittenAt: wrote, previous }).completionTime, HELD_AT);
    // a job that finishes now is not dated by it
    assert.equal(decide({ recordWrittenAt: wrote }).completionTime, undefined);
  });

  test("a stored Running status: held too", () => {
    const life = decide({ markedFinished: true, previous: { phase: "Running", startTime: HELD_AT } });
    assert.equal(life.terminal?.reason, "OutcomeUnknown");
    assert.equal(life.startTime, HELD_AT);
  });

  test("no spec record: the job is not finished (it runs)", () => {
    assert.equal(decide({}).terminal, undefined);
  });

  test("a stored outcome that reads is kept", () => {
    const previous: Status = {
      ...heldStatus,
      conditions: [{ ...heldStatus.conditions![0]!, reason: "ModelNotFound", message: "no model" }],
    };
    const life = decide({ markedFinished: true, previous });
    assert.equal(life.terminal?.reason, "ModelNotFound");
    assert.equal(life.readBack, undefined);
  });

  test("the stream's job.finished makes it Succeeded, read back from the stream", () => {
    const life = decide({
      markedFinished: true,
      previous: heldStatus,
      progress: progressWith({ kind: "completed", round: 3 }),
    });
    assert.deepEqual(
      { phase: life.terminal?.phase, reason: life.terminal?.reason, readBack: life.readBack },
      { phase: "Succeeded", reason: "TrainingCompleted", readBack: "stream" },
    );
    assert.equal(life.completionTime, HELD_AT);
  });

  test("a job.failed within the second of a completionTime of whole seconds (the ConfigMap's write) gives its reason", () => {
    const life = decide({
      markedFinished: true,
      previous: { ...heldStatus, completionTime: "2026-01-01T01:30:00Z" },
      progress: progressWith({
        kind: "failed",
        reason: "ModelNotFound",
        message: "no model",
        at: "2026-01-01T01:30:00.400Z",
      }),
    });
    assert.equal(life.terminal?.reason, "ModelNotFound");
  });

  test("the stream's job.failed from before it was held gives its reason; one stamped after does not", () => {
    const before = decide({
      markedFinished: true,
      previous: heldStatus,
      progress: progressWith({
        kind: "failed",
        reason: "ModelNotFound",
        message: "no model",
        at: "2026-01-01T01:00:00.000Z",
      }),
    });
    assert.equal(before.terminal?.reason, "ModelNotFound");
    assert.equal(before.readBack, "stream");
    const later = decide({
      markedFinished: true,
      previous: heldStatus,
      progress: progressWith({
        kind: "failed",
        reason: "ModelNotFound",
        message: "no model",
        at: "2026-01-01T01:45:00.000Z",
      }),
    });
    assert.equal(later.terminal?.reason, "OutcomeUnknown");
  });
});

describe("the outcome record of a job finished before (a ConfigMap with the spec record)", () => {
  const settings = parseConfig([], {}).children;
  const j = job("demo", { clients: { count: 1 } });
  const ref = { namespace: "default", name: "demo", uid: "u-1" };
  const live = (outcome?: OutcomeRecord): V1ConfigMap => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "demo-config",
      annotations: {
        [ANNOTATION_FINISHED_SPEC]: '{"generation":1,"fields":{}}',
        ...(outcome ? { [ANNOTATION_FINISHED_OUTCOME]: JSON.stringify(outcome) } : {}),
      },
    },
    data: { "run-config.json": "as it ran" },
  });
  const lost: OutcomeRecord = {
    phase: "Failed",
    reason: FAILURE_REASON_LOST,
    message: "lost",
    completionTime: HELD_AT,
  };
  const applied = (
    previous: Status,
    cm: V1ConfigMap,
    progress?: ProgressSnapshot,
  ): V1ConfigMap | undefined => {
    const recorded = recordedOutcome(cm);
    const lifecycle = decide({ previous, recorded, markedFinished: true, ...(progress ? { progress } : {}) });
    const out = desiredChildren({
      job: j,
      ref,
      settings,
      jobKey: "k",
      lifecycle,
      plans: [],
      now: NOW,
      recorded: { generation: 1, fields: {} },
      configMap: cm,
      recordedOutcome: recorded,
    });
    return out.apply.find((o) => o.kind === "ConfigMap") as V1ConfigMap | undefined;
  };
  const failed = (reason: string): Status => ({
    ...heldStatus,
    conditions: [{ ...heldStatus.conditions![0]!, reason, message: `${reason} text` }],
  });

  test("none there: written from the status that reads, the data and spec record as they are", () => {
    const cm = applied(failed("DeadlineExceeded"), live());
    assert.equal(recordedOutcome(cm)?.reason, "DeadlineExceeded");
    assert.equal(cm?.metadata?.annotations?.[ANNOTATION_FINISHED_SPEC], '{"generation":1,"fields":{}}');
    assert.deepEqual(cm?.data, { "run-config.json": "as it ran" });
  });

  test("a record of a lost reason: replaced by a reason read back, kept while none is", () => {
    const progress = progressWith({
      kind: "failed",
      reason: "ModelNotFound",
      message: "no model",
      at: "2026-01-01T01:00:00.000Z",
    });
    const cm = applied(failed(FAILURE_REASON_LOST), live(lost), progress);
    assert.equal(recordedOutcome(cm)?.reason, "ModelNotFound");
    assert.equal(applied(failed(FAILURE_REASON_LOST), live(lost)), undefined, "kept as it is");
  });

  test("never the reverse, and OutcomeUnknown is never recorded", () => {
    const known: OutcomeRecord = { ...lost, reason: "DeadlineExceeded", message: "deadline" };
    assert.equal(applied(failed(FAILURE_REASON_LOST), live(known)), undefined);
    assert.equal(applied({ phase: "Running" }, live()), undefined);
  });
});
