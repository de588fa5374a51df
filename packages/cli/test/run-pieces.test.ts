// The pure pieces of `sfprompt run`: chart ticks, the comparison table and its verdict, metrics
// folding of progress events, and the run directory's resume/fresh decision on a real folder.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { RoundFinished } from "@sfprompt/protocol";
import { compareRows, compareVerdict, type MethodResult } from "../src/run/compare.js";
import { emptyMetrics, totalBytes, withRound, type RunMetrics } from "../src/run/metrics.js";
import { openRunDir } from "../src/run/run-dir.js";
import { formatBytes, niceTicks } from "../src/run/svg-chart.js";

function finished(round: number, accuracy: number, up: number, down: number): RoundFinished {
  return {
    v: 1,
    job: "j",
    at: "2026-01-01T00:00:00Z",
    type: "round.finished",
    round,
    loss: 1 / round,
    accuracy,
    participants: ["client-0"],
    samples: 10,
    bytes: { up, down, byKind: { activation: up, gradient: down } },
    durationMs: 5,
  };
}

function run(method: MethodResult["method"], accuracy: number, bytes: number): MethodResult {
  const m: RunMetrics = withRound(emptyMetrics("j", method), finished(1, accuracy, bytes / 2, bytes / 2));
  return { method, metrics: m, seconds: 1 };
}

describe("chart ticks", () => {
  const cases: Array<[string, number, number, number[]]> = [
    [
      "cover a range whose top is not a round number",
      0,
      945322,
      [0, 200000, 400000, 600000, 800000, 1000000],
    ],
    ["give percent steps of 20 for 0..100", 0, 100, [0, 20, 40, 60, 80, 100]],
    ["start below a negative minimum", -3, 7, [-4, -2, 0, 2, 4, 6, 8]],
    ["collapse an empty range to one tick", 5, 5, [5]],
  ];
  for (const [name, lo, hi, want] of cases) it(name, () => assert.deepEqual(niceTicks(lo, hi), want));

  it("formats bytes in powers of 1000", () => {
    assert.deepEqual([0, 999, 1500, 57_500_000, 2e9].map(formatBytes), [
      "0 B",
      "999 B",
      "1.5 kB",
      "57.5 MB",
      "2 GB",
    ]);
  });
});

describe("metrics from progress events", () => {
  it("replaces a round seen again after a resume instead of duplicating it", () => {
    let m = emptyMetrics("j", "sfprompt");
    m = withRound(m, finished(2, 0.5, 10, 20));
    m = withRound(m, finished(1, 0.4, 10, 20));
    m = withRound(m, finished(2, 0.6, 30, 40));
    assert.deepEqual(
      m.rounds.map((r) => [r.round, r.accuracy, r.bytes.total]),
      [
        [1, 0.4, 30],
        [2, 0.6, 70],
      ],
    );
    assert.equal(totalBytes(m), 100);
  });
});

describe("comparison table", () => {
  it("orders methods, relates bytes to SFL + prompt and states the issue's bar", () => {
    const rows = compareRows([
      run("fl-full", 0.9, 1000),
      run("sfl-prompt", 0.8, 400),
      run("sfprompt", 0.79, 180),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.method, r.bytesVsSfl]),
      [
        ["sfprompt", 0.45],
        ["sfl-prompt", 1],
        ["fl-full", 2.5],
      ],
    );
    const verdict = compareVerdict(rows);
    assert.match(verdict[0] as string, /within 2 points: gap 1\.00/);
    assert.match(verdict[1] as string, /55\.0 % less than SFL \+ prompt \(meets the 50 % bar\)/);
    assert.match(verdict[2] as string, /18\.0 % of FL full fine-tuning's bytes/);
  });

  it("says when SFPrompt misses the bar", () => {
    const verdict = compareVerdict(compareRows([run("sfl-prompt", 0.8, 400), run("sfprompt", 0.7, 300)]));
    assert.match(verdict[0] as string, /NOT within 2 points: gap 10\.00/);
    assert.match(verdict[1] as string, /misses the 50 % bar/);
  });
});

describe("run directory", () => {
  function withCheckpoint(): string {
    const dir = mkdtempSync(join(tmpdir(), "run-dir-"));
    mkdirSync(join(dir, "nats", "jetstream"), { recursive: true });
    writeFileSync(join(dir, "metrics.json"), "{}");
    writeFileSync(join(dir, "notes.txt"), "mine");
    return dir;
  }

  it("resumes by default when a checkpoint exists and the spec allows it", () => {
    const dir = withCheckpoint();
    assert.deepEqual(openRunDir(dir, "auto", true), { resumed: true });
    assert.ok(existsSync(join(dir, "metrics.json")));
  });

  it("starts clean with --fresh, or when spec.output.resume is false, keeping files it did not write", () => {
    for (const [mode, specResume] of [
      ["fresh", true],
      ["auto", false],
    ] as const) {
      const dir = withCheckpoint();
      assert.deepEqual(openRunDir(dir, mode, specResume), { resumed: false });
      assert.equal(existsSync(join(dir, "nats")), false);
      assert.equal(existsSync(join(dir, "metrics.json")), false);
      assert.ok(existsSync(join(dir, "notes.txt")));
    }
  });

  it("refuses --resume without a checkpoint, naming the folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "run-dir-"));
    assert.throws(
      () => openRunDir(dir, "resume", true),
      (e: Error) => e.name === "RunDirError" && e.message.includes(dir),
    );
  });
});
