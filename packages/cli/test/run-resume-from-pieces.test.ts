// The pieces of a local run of a job with spec.output.resumeFrom (ADR 0044): where the server went
// on from, read from its log, and how the source job's rounds are marked and counted.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  emptyMetrics,
  inheritedBytes,
  totalBytes,
  withCheckpointRounds,
  withResumedFrom,
  type CheckpointRound,
} from "../src/run/metrics.js";
import { resumedFromLog } from "../src/run/resume-source.js";
import { inheritedNote } from "../src/run/summary.js";
import { formatBytes } from "../src/run/svg-chart.js";

const dir = mkdtempSync(join(tmpdir(), "cli-resume-from-pieces-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const logLine = (at: string, fields: Record<string, unknown>): string =>
  JSON.stringify({ at, level: "info", job: "default_b", role: "server", ...fields });

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

describe("where the server went on from", () => {
  it("takes this session's resumed event with a source, passing over earlier sessions' and torn lines", () => {
    const log = join(dir, "server.log");
    writeFileSync(
      log,
      [
        logLine("2026-01-01T10:00:00.000Z", { event: "resumed", round: 1, from: "old", bucket: "x" }),
        logLine("2026-01-01T11:00:01.000Z", { event: "resumed", round: 2, from: "a", bucket: "y" }),
        '{"at":"2026-01-01T11:00:02.000Z","event":"resum',
        "",
      ].join("\n"),
    );
    assert.deepEqual(resumedFromLog(log, Date.parse("2026-01-01T11:00:00.000Z")), { job: "a", round: 2 });
    assert.equal(resumedFromLog(log, Date.parse("2026-01-01T12:00:00.000Z")), undefined);
  });

  it("says nothing when the server resumed from the job's own checkpoint or no log was written", () => {
    const log = join(dir, "own.log");
    writeFileSync(log, `${logLine("2026-01-01T11:00:01.000Z", { event: "resumed", round: 3 })}\n`);
    assert.equal(resumedFromLog(log, 0), undefined);
    assert.equal(resumedFromLog(join(dir, "missing.log"), 0), undefined);
  });
});

describe("the source job's rounds in metrics.json", () => {
  it("marks the rounds up to the source's checkpoint as the source's and says how much of the traffic they were", () => {
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
    assert.equal(inheritedBytes(m), 300 + 600);
    assert.equal(totalBytes(m), 300 + 600 + 1200);
    assert.equal(
      inheritedNote(m),
      ` (${formatBytes(900)} of it in rounds 1–2, trained by job a, which this job went on from)`,
    );
  });

  it("adds no note to a job that went on from no other job", () => {
    const m = withCheckpointRounds(emptyMetrics("b", "sfprompt"), [historyRound(1, 100)]);
    assert.equal(inheritedNote(m), "");
    assert.equal(inheritedBytes(m), 0);
  });
});
