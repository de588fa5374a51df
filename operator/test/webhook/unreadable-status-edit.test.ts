// The validating webhook on an edit of a job whose stored status does not read as the API's (a
// lower-case date-time, which the CRD of before ADR 0002 amendment 1 stored): the edit is checked against the status's fields
// that read, as the reconciler builds on them, and its warnings say which fields do not (ADR 0023,
// amendment 5).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jobWith } from "../../../packages/api/test/helpers/builders.js";
import { validateJob } from "../../src/webhook/admit.js";
import { readReview } from "../../src/webhook/admission-review.js";
import { reviewOf } from "./review-builders.js";

const validate = (obj: unknown, old: unknown) => validateJob(readReview(reviewOf("UPDATE", obj, old)));

/** A stored job (10 rounds) with `status` and a completionTime the API's schema rejects. */
const unreadable = (status: Record<string, unknown>) => ({
  ...jobWith({ training: { rounds: 10 } }),
  status: { ...status, completionTime: "2026-11-28t05:00:00z" },
});

const checkpoint = { round: 6, object: "checkpoints/round-6" };
const succeeded = {
  type: "Succeeded",
  status: "True",
  reason: "TrainingCompleted",
  message: "",
  lastTransitionTime: "2026-11-28T04:00:00Z",
};

const UNREADABLE_WARNINGS = [
  "the stored status does not read as this operator's API: this edit was checked without the fields below",
  "status fields it rejects: status.completionTime: Invalid ISO datetime",
  "the operator writes the status again from the job's progress (see the job's StatusUnreadable event)",
];

describe("validating webhook: an edit over a stored status that does not read", () => {
  it("refuses rounds below the checkpoint that the fields which read still name", () => {
    const r = validate(
      jobWith({ training: { rounds: 4 } }),
      unreadable({ phase: "Running", lastCheckpoint: checkpoint }),
    );
    assert.equal(r.allowed, false);
    assert.match(
      r.status!.message,
      /^spec\.training\.rounds: 4 is below round 6 of the job's newest checkpoint/,
    );
  });
  it("allows an edit the checkpoint can resume under, with warnings naming the fields that do not read", () => {
    const r = validate(
      jobWith({ training: { rounds: 8 } }),
      unreadable({ phase: "Running", lastCheckpoint: checkpoint }),
    );
    assert.equal(r.allowed, true, r.status?.message);
    assert.deepEqual(r.warnings, UNREADABLE_WARNINGS);
  });
  it("still warns that a finished job ignores the edit, after saying what does not read", () => {
    const r = validate(
      jobWith({ training: { rounds: 3 } }),
      unreadable({ phase: "Succeeded", conditions: [succeeded], lastCheckpoint: checkpoint }),
    );
    assert.equal(r.allowed, true, r.status?.message);
    assert.deepEqual(r.warnings?.slice(0, 3), UNREADABLE_WARNINGS);
    assert.equal(
      r.warnings?.[3],
      "this job has finished (Succeeded) and does not run again: this edit is ignored",
    );
  });
});
