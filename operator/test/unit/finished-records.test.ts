// A finished job's ConfigMap records read once per reconcile: either annotation, read or not, says the
// job finished, and one that does not read is named in a Warning that says what becomes of it (ADR
// 0023, amendment 22).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { finishedRecords } from "../../src/desired/finished-records.js";
import { outcomeRecordAnnotation } from "../../src/desired/outcome-record.js";
import { specRecordAnnotation } from "../../src/desired/spec-record.js";
import { ANNOTATION_FINISHED_OUTCOME, ANNOTATION_FINISHED_SPEC } from "../../src/names.js";
import { unreadableRecordEvent } from "../../src/reconcile/unreadable-record.js";
import { job } from "../fixtures.js";

const SPEC = specRecordAnnotation(job("demo").spec, 1);
const OUTCOME = outcomeRecordAnnotation({
  phase: "Failed",
  reason: "DeadlineExceeded",
  message: "the job ran longer than spec.activeDeadlineSeconds (1 s)",
  completionTime: "2026-01-01T00:00:00Z",
});

const cm = (annotations: Record<string, string> | undefined): V1ConfigMap => ({
  metadata: { name: "demo-config", ...(annotations ? { annotations } : {}) },
});

describe("finishedRecords", () => {
  const cases: {
    name: string;
    annotations: Record<string, string> | undefined;
    finished: boolean;
    spec: boolean;
    outcome: boolean;
    unreadable: string[];
  }[] = [
    {
      name: "a running job's ConfigMap has none",
      annotations: undefined,
      finished: false,
      spec: false,
      outcome: false,
      unreadable: [],
    },
    {
      name: "both records that read",
      annotations: { [ANNOTATION_FINISHED_SPEC]: SPEC, [ANNOTATION_FINISHED_OUTCOME]: OUTCOME },
      finished: true,
      spec: true,
      outcome: true,
      unreadable: [],
    },
    {
      name: "a spec record that is no JSON still says the job finished",
      annotations: { [ANNOTATION_FINISHED_SPEC]: "{not json" },
      finished: true,
      spec: false,
      outcome: false,
      unreadable: [ANNOTATION_FINISHED_SPEC],
    },
    {
      name: "a spec record without its fields, beside an outcome that reads",
      annotations: { [ANNOTATION_FINISHED_SPEC]: '{"generation":1}', [ANNOTATION_FINISHED_OUTCOME]: OUTCOME },
      finished: true,
      spec: false,
      outcome: true,
      unreadable: [ANNOTATION_FINISHED_SPEC],
    },
    {
      name: "an outcome record alone that does not read",
      annotations: { [ANNOTATION_FINISHED_OUTCOME]: "" },
      finished: true,
      spec: false,
      outcome: false,
      unreadable: [ANNOTATION_FINISHED_OUTCOME],
    },
    {
      name: "both unreadable",
      annotations: { [ANNOTATION_FINISHED_SPEC]: "[]", [ANNOTATION_FINISHED_OUTCOME]: "{}" },
      finished: true,
      spec: false,
      outcome: false,
      unreadable: [ANNOTATION_FINISHED_SPEC, ANNOTATION_FINISHED_OUTCOME],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = finishedRecords(cm(c.annotations));
      assert.equal(r.finished, c.finished);
      assert.equal(r.spec !== undefined, c.spec);
      assert.equal(r.outcome !== undefined, c.outcome);
      assert.deepEqual(r.unreadable, c.unreadable);
    });
  }
  test("writtenAt: the operator's own apply's time, of a finished job's ConfigMap only", () => {
    const managedFields = [
      { manager: "kubectl-edit", operation: "Update", time: new Date("2026-01-01T05:00:00Z") },
      { manager: "sfprompt-operator", operation: "Apply", time: new Date("2026-01-01T01:00:00Z") },
    ];
    const finished = cm({ [ANNOTATION_FINISHED_SPEC]: SPEC });
    finished.metadata!.managedFields = managedFields;
    assert.equal(finishedRecords(finished).writtenAt, "2026-01-01T01:00:00.000Z");
    const running: V1ConfigMap = { metadata: { name: "demo-config", managedFields } };
    assert.equal(finishedRecords(running).writtenAt, undefined);
  });

  test("no ConfigMap at all is no finish", () => {
    assert.deepEqual(finishedRecords(undefined), { finished: false, unreadable: [] });
  });
});

describe("unreadableRecordEvent", () => {
  const held = { phase: "Failed" as const, reason: "OutcomeUnknown", message: "held" };
  const deadline = { phase: "Failed" as const, reason: "DeadlineExceeded", message: "late" };
  test("none when every record reads", () => {
    assert.equal(
      unreadableRecordEvent({ configMap: "demo-config", unreadable: [], terminal: deadline, applies: true }),
      undefined,
    );
  });
  test("an unreadable spec record: named with its ConfigMap, written again, the job not started", () => {
    const e = unreadableRecordEvent({
      configMap: "demo-config",
      unreadable: [ANNOTATION_FINISHED_SPEC],
      terminal: held,
      applies: true,
    });
    assert.equal(e?.type, "Warning");
    assert.equal(e?.reason, "FinishedRecordUnreadable");
    assert.match(
      e?.message ?? "",
      /^the job's ConfigMap demo-config carries annotation sfprompt\.io\/finished-spec,/,
    );
    assert.match(e?.message ?? "", /is not started again; the spec record is written again from the spec/);
  });
  test("an unreadable outcome record of a job held: OutcomeUnknown; of one whose status reads: written from it", () => {
    const unknown = unreadableRecordEvent({
      configMap: "demo-config",
      unreadable: [ANNOTATION_FINISHED_OUTCOME],
      terminal: held,
      applies: true,
    });
    assert.match(unknown?.message ?? "", /held as Failed \(OutcomeUnknown\)/);
    const known = unreadableRecordEvent({
      configMap: "demo-config",
      unreadable: [ANNOTATION_FINISHED_OUTCOME],
      terminal: deadline,
      applies: true,
    });
    assert.match(
      known?.message ?? "",
      /the outcome record is written again from what the job's status says \(Failed, DeadlineExceeded\)/,
    );
  });
  test("an invalid spec's reconcile writes the spec record once the spec is valid, the outcome record now", () => {
    const e = unreadableRecordEvent({
      configMap: "demo-config",
      unreadable: [ANNOTATION_FINISHED_SPEC, ANNOTATION_FINISHED_OUTCOME],
      terminal: deadline,
      applies: false,
    });
    assert.match(
      e?.message ?? "",
      /annotations sfprompt\.io\/finished-spec and sfprompt\.io\/finished-outcome/,
    );
    assert.match(e?.message ?? "", /the spec record is written again once the spec is valid/);
    // the outcome record needs no spec: an invalid spec's reconcile writes it (ADR 0023, amendment 25)
    assert.match(
      e?.message ?? "",
      /the outcome record is written again from what the job's status says \(Failed, DeadlineExceeded\)/,
    );
  });
});
