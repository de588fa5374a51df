// The pieces of a local run of a job with spec.output.resumeFrom (ADR 0044): how the source job's
// rounds are marked, left out of the job's totals and said next to its traffic.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  bytesCurve,
  emptyMetrics,
  totalBytes,
  withCheckpointRounds,
  withResumedFrom,
  type CheckpointRound,
} from "../src/run/metrics.js";
import { openRunDir } from "../src/run/run-dir.js";
import type { SourceCheckpoint } from "../src/run/resume-source.js";
import { inheritedNote, trafficLine } from "../src/run/summary.js";
import { formatBytes } from "@sfprompt/protocol/charts";

function historyRound(round: number, up: number): CheckpointRound {
  return {
    round,
    loss: 1 / round,
    accuracy: 0.1 * round,
    participants: ["client-0"],
    samples: 32,
    kept: 32,
    clientFlops: 1e6,
    bytes: { up, down: 2 * up, byKind: { activation: up, gradient: 2 * up } },
    durationMs: 5,
  };
}

describe("the source job's rounds in metrics.json", () => {
  it("marks the rounds up to the source's checkpoint as the source's and counts only the job's own in its traffic", () => {
    const history = [historyRound(1, 100), historyRound(2, 200), historyRound(3, 400)];
    const m = withResumedFrom(withCheckpointRounds(emptyMetrics("b", "sfprompt"), history), {
      job: "a",
      round: 2,
    });
    assert.deepEqual(
      m.rounds.map((r) => [r.round, r.from]),
      [
        [1, "a"],
        [2, "a"],
        [3, undefined],
      ],
    );
    assert.deepEqual(m.resumedFrom, { job: "a", round: 2 });
    assert.equal(totalBytes(m), 1200, "round 3's up and down bytes, not rounds 1–2's");
    assert.deepEqual(
      bytesCurve(m).map((p) => [p.round, p.bytes]),
      [[3, 1200]],
      "the per-byte curve starts with the job's own first round",
    );
    assert.equal(inheritedNote(m), " (rounds 1–2 were trained by job a, which this job went on from)");
    assert.equal(
      trafficLine(m),
      `${formatBytes(1200)} over 1 round (rounds 1–2 were trained by job a, which this job went on from)`,
    );
  });

  it("says round 1 alone in the singular", () => {
    const history = [historyRound(1, 100), historyRound(2, 200)];
    const m = withResumedFrom(withCheckpointRounds(emptyMetrics("b", "sfprompt"), history), {
      job: "a",
      round: 1,
    });
    assert.equal(inheritedNote(m), " (round 1 was trained by job a, which this job went on from)");
    assert.equal(totalBytes(m), 600);
  });

  it("adds no note to a job that went on from no other job, and counts all its rounds", () => {
    const m = withCheckpointRounds(emptyMetrics("b", "sfprompt"), [
      historyRound(1, 100),
      historyRound(2, 200),
    ]);
    assert.equal(inheritedNote(m), "");
    assert.equal(totalBytes(m), 300 + 600);
    assert.equal(trafficLine(m), `${formatBytes(900)} over 2 rounds`);
  });
});

describe("--resume of a job with spec.output.resumeFrom (openRunDir)", () => {
  const source = (round: number | null, bucketExists = true): SourceCheckpoint => ({
    job: "a",
    bucket: "sfp-a-artifacts",
    round,
    bucketExists,
  });
  const dir = (): string => mkdtempSync(join(tmpdir(), "run-dir-from-"));

  it("goes on without a checkpoint of the job's own when the source holds one, as a new session", () => {
    const found = { own: false, ownBucket: "sfp-b-artifacts", resumeFrom: source(2) };
    assert.deepEqual(openRunDir(dir(), "resume", true, found), { resumed: false });
  });

  it("resumes the job's own checkpoint first, whatever the source holds", () => {
    const found = { own: true, ownBucket: "sfp-b-artifacts", resumeFrom: source(null, false) };
    assert.deepEqual(openRunDir(dir(), "resume", true, found), { resumed: true });
  });

  for (const [name, from, found] of [
    ["a source bucket that does not exist", source(null, false), "no such bucket"],
    ["a source bucket without a checkpoint", source(null), "it holds no checkpoint"],
  ] as const)
    it(`is refused with ${name}, naming both buckets`, () => {
      assert.throws(
        () =>
          openRunDir(dir(), "resume", true, { own: false, ownBucket: "sfp-b-artifacts", resumeFrom: from }),
        (e: Error) =>
          e.name === "RunDirError" &&
          e.message.includes("none in the job's own bucket sfp-b-artifacts on the --nats server") &&
          e.message.includes(`spec.output.resumeFrom.job a's bucket sfp-a-artifacts (${found})`),
      );
    });
});
