// The pure pieces of `sfprompt run`: chart ticks, the comparison table and its verdict, metrics
// folding of progress events, and the run directory's resume/fresh decision on a real folder.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { RoundFinished } from "@sfprompt/protocol";
import { compareRows, compareVerdict, type MethodResult } from "../src/run/compare.js";
import { methodsToRun, parseMethodsFlag } from "../src/run/compare-methods.js";
import { UsageError } from "../src/errors.js";
import {
  emptyMetrics,
  followAttempt,
  RunMetricsSchema,
  totalBytes,
  withCheckpointRounds,
  withRound,
  type CheckpointRound,
  type RunMetrics,
} from "../src/run/metrics.js";
import { openRunDir } from "../src/run/run-dir.js";
import { accuracyByBytesSvg } from "../src/run/plots.js";
import { formatBytes, logTicks, niceTicks } from "@sfprompt/protocol/charts";

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
  return rounds(method, [[accuracy, bytes]]);
}

/** A run with one round per [accuracy, bytes of that round]. */
function rounds(method: MethodResult["method"], perRound: Array<[number, number]>): MethodResult {
  let m: RunMetrics = emptyMetrics("j", method);
  perRound.forEach(([acc, bytes], i) => (m = withRound(m, finished(i + 1, acc, bytes / 2, bytes / 2))));
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

  const logCases: Array<[string, number, number, number[]]> = [
    ["span the decades around a range", 1500, 2_300_000, [1000, 10000, 100000, 1000000, 10000000]],
    ["give two ticks to a range inside one decade", 200, 300, [100, 1000]],
    ["start on an exact power of 10", 1000, 1e5, [1000, 10000, 100000]],
    ["fall back to one tick for a range with no positive start", 0, 10, [1]],
  ];
  for (const [name, lo, hi, want] of logCases)
    it(`log ticks ${name}`, () => assert.deepEqual(logTicks(lo, hi), want));

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

describe("accuracy against bytes", () => {
  const svg = accuracyByBytesSvg([
    rounds("sfprompt", [
      [0.3, 2000],
      [0.5, 2000],
    ]).metrics,
    rounds("sfl-prompt", [
      [0.4, 50_000],
      [0.6, 50_000],
    ]).metrics,
    rounds("centralized", [
      [0.7, 0],
      [0.8, 0],
    ]).metrics,
  ]);
  const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);

  it("plots each method that sent bytes at its cumulative bytes, and leaves out one that sent none", () => {
    assert.equal(circles.length, 4, "two rounds of the two methods that sent bytes");
    assert.match(svg, />sfprompt<\/text>/);
    assert.match(svg, />sfl-prompt<\/text>/);
    assert.doesNotMatch(svg, />centralized<\/text>/);
  });

  it("places x on a log scale: a 10× step in bytes is one decade's width", () => {
    // sfprompt at 2 kB and 4 kB, sfl-prompt at 50 kB and 100 kB: the axis spans 1 kB..100 kB
    const [a, b, c, d] = circles.map(([x]) => x as number);
    const decade = ((d as number) - (a as number)) / Math.log10(100_000 / 2000);
    assert.ok(Math.abs((b as number) - (a as number) - decade * Math.log10(2)) < 0.2);
    assert.ok(Math.abs((c as number) - (a as number) - decade * Math.log10(25)) < 0.2);
    for (const label of ["1 kB", "10 kB", "100 kB"]) assert.match(svg, new RegExp(`>${label}</text>`));
    assert.doesNotMatch(svg, />1 MB<\/text>/, "no decade beyond the data");
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

  it("takes a round re-run after a resume from the checkpoint when its second event was dropped as a duplicate", () => {
    // session 1 published round 2's event, then Ctrl-C came before its checkpoint; session 2 resumed
    // from round 1 and ran round 2 again, whose event JetStream dropped (same message id)
    let m = emptyMetrics("j", "sfprompt");
    m = withRound(m, finished(1, 0.4, 10, 20));
    m = withRound(m, finished(2, 0.5, 11, 21));
    const checkpointRound = (
      round: number,
      up: number,
      down: number,
      participants: string[],
    ): CheckpointRound => ({
      round,
      loss: 2 / round,
      accuracy: null,
      participants,
      samples: 40,
      kept: 20,
      clientFlops: 1e6,
      bytes: { up, down, byKind: { activation: up - 1, gradient: down, control: 1, invalid: 3 } },
      durationMs: 7,
    });
    const history = [
      checkpointRound(1, 10, 20, ["client-0"]),
      checkpointRound(2, 13, 25, ["client-0", "client-1"]),
    ];
    const fixed = withCheckpointRounds(m, history);
    const second = fixed.rounds[1]!;
    assert.deepEqual(second.bytes, {
      up: 13,
      down: 25,
      total: 38,
      byKind: { activation: 12, gradient: 25, control: 1 },
    });
    assert.deepEqual(second.clients, ["client-0", "client-1"]);
    assert.equal(second.samples, 20);
    assert.equal(second.loss, 1);
    assert.equal(second.accuracy, 0.5, "a round without evaluation keeps the accuracy its event carried");
    assert.equal(
      fixed.rounds.reduce((a, r) => a + r.bytes.total, 0),
      history.reduce((a, h) => a + h.bytes.up + h.bytes.down, 0),
      "the rounds add up to the job's total, as job.finished reports it from the same history",
    );
    RunMetricsSchema.parse(fixed);
  });
  it("adds a round the checkpoint history holds but no event reported, dated by the server", () => {
    // Ctrl-C after round 1's event: the stopping server still checkpointed round 2, whose event never
    // went out; the next session resumed from round 2 and ran round 3
    let m = emptyMetrics("j", "sfprompt");
    m = withRound(m, finished(1, 0.4, 10, 20));
    m = withRound(m, finished(3, 0.7, 12, 22));
    const entry = (round: number, accuracy: number | null, finishedAt?: string): CheckpointRound => ({
      round,
      loss: 1 / round,
      accuracy,
      participants: ["client-0", "client-1"],
      samples: 40,
      kept: 18 + round,
      clientFlops: 1e6,
      bytes: { up: 10 + round, down: 20 + round, byKind: { activation: 10 + round, gradient: 20 + round } },
      durationMs: 5 * round,
      ...(finishedAt === undefined ? {} : { finishedAt }),
    });
    const at2 = "2026-11-27T08:00:00.000Z";
    const fixed = withCheckpointRounds(m, [entry(1, 0.4), entry(2, null, at2), entry(3, 0.7)]);
    RunMetricsSchema.parse(fixed);
    assert.deepEqual(
      fixed.rounds.map((r) => r.round),
      [1, 2, 3],
    );
    const second = fixed.rounds[1]!;
    assert.equal(second.at, at2, "dated when the server aggregated it");
    assert.equal(
      second.accuracy,
      0.4,
      "not evaluated: the accuracy of the round before, as its event would say",
    );
    assert.equal(second.samples, 20);
    assert.deepEqual(second.clients, ["client-0", "client-1"]);
    assert.equal(second.bytes.total, 34);
    const readAt = new Date("2026-11-27T09:00:00.000Z");
    const older = withCheckpointRounds(m, [entry(1, 0.4), entry(2, 0.55), entry(3, 0.7)], readAt);
    assert.equal(
      older.rounds[1]!.at,
      readAt.toISOString(),
      "an older server's history has no date: when it was read",
    );
    assert.equal(older.rounds[1]!.accuracy, 0.55);
    assert.equal(older.rounds[0]!.at, m.rounds[0]!.at, "a round its event reported keeps the event's date");
  });
});

describe("metrics across run attempts", () => {
  const of = (attempt: string, e: RoundFinished): RoundFinished => ({ ...e, attempt });
  /** Folds `events` as sfprompt run does: an event's attempt first, then its round. */
  function fold(m: RunMetrics, events: RoundFinished[]): RunMetrics {
    for (const e of events) {
      const next = followAttempt(m, e);
      if (next.verdict !== "stale") m = withRound(next.metrics, e);
    }
    return m;
  }

  it("drops the rounds, final line and time of an attempt the server started over from", () => {
    const earlier = {
      ...fold(
        emptyMetrics("j", "sfprompt"),
        [1, 2, 3].map((r) => of("first", finished(r, 0.9, 100, 100))),
      ),
      seconds: 40,
    };
    const again = fold(earlier, [of("second", finished(1, 0.3, 5, 6))]);
    assert.deepEqual(
      again.rounds.map((r) => [r.round, r.accuracy, r.bytes.total]),
      [[1, 0.3, 11]],
    );
    assert.equal(again.seconds, undefined);
    assert.equal(totalBytes(again), 11);
    assert.deepEqual(again.attempts, { current: "second", earlier: ["first"] });
    RunMetricsSchema.parse(again);
  });

  it("skips a replaced attempt's late events and keeps a resumed attempt's rounds", () => {
    let m = fold(emptyMetrics("j", "sfprompt"), [
      of("first", finished(1, 0.9, 100, 100)),
      of("second", finished(1, 0.3, 5, 6)),
    ]);
    assert.equal(followAttempt(m, of("first", finished(2, 0.99, 1, 1))).verdict, "stale");
    m = fold(m, [of("first", finished(2, 0.99, 1, 1)), of("second", finished(2, 0.4, 7, 8))]);
    assert.deepEqual(
      m.rounds.map((r) => [r.round, r.accuracy]),
      [
        [1, 0.3],
        [2, 0.4],
      ],
    );
  });

  it("takes a file of an older CLI, without attempts, as the attempt before the first one it sees", () => {
    const older = fold(emptyMetrics("j", "sfprompt"), [finished(1, 0.5, 10, 10), finished(2, 0.6, 10, 10)]);
    assert.equal(older.attempts, undefined);
    // the server resumed from an older server's checkpoint: no attempt, the rounds go on
    assert.equal(fold(older, [finished(3, 0.7, 10, 10)]).rounds.length, 3);
    // the server started over: a new attempt
    assert.deepEqual(
      fold(older, [of("fresh", finished(1, 0.2, 1, 1))]).rounds.map((r) => r.round),
      [1],
    );
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

  it("compares the bytes each method sent before it first reached SFPrompt's final accuracy", () => {
    const sfp = rounds("sfprompt", [
      [0.3, 100],
      [0.5, 100],
      [0.5, 100],
    ]);
    const behind = rounds("sfl-prompt", [
      [0.4, 250],
      [0.55, 250],
    ]);
    assert.equal(
      compareVerdict(compareRows([sfp, behind])).at(-1),
      "bytes to reach SFPrompt's final 50.00 %: SFPrompt 200 B (round 2), SFL + prompt 500 B (round 2): SFPrompt is ahead per byte",
    );
    const ahead = rounds("sfl-prompt", [[0.6, 150]]);
    assert.match(
      compareVerdict(compareRows([sfp, ahead])).at(-1) as string,
      /SFL \+ prompt 150 B \(round 1\): SFL \+ prompt is ahead per byte$/,
    );
    const never = rounds("sfl-prompt", [[0.45, 150]]);
    assert.match(
      compareVerdict(compareRows([sfp, never])).at(-1) as string,
      /SFL \+ prompt never reached it \(SFPrompt is ahead per byte\)$/,
    );
  });

  it("says when SFPrompt misses the bar", () => {
    const verdict = compareVerdict(compareRows([run("sfl-prompt", 0.8, 400), run("sfprompt", 0.7, 300)]));
    assert.match(verdict[0] as string, /NOT within 2 points: gap 10\.00/);
    assert.match(verdict[1] as string, /misses the 50 % bar/);
  });
});

describe("the methods a run trains", () => {
  const cases: Array<[string, Parameters<typeof methodsToRun>, string[]]> = [
    ["without --compare, only the job's method", ["sfprompt", false], ["sfprompt"]],
    [
      "with --compare, the job's method then every other in table order",
      ["sfprompt", true],
      ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full", "centralized"],
    ],
    [
      "a job of a baseline method comes first, the rest follow in table order",
      ["fl-full", true],
      ["fl-full", "sfprompt", "sfl-prompt", "fl-prompt", "centralized"],
    ],
    [
      "--methods keeps only the baselines it names, in table order",
      ["sfprompt", true, ["fl-full", "sfl-prompt"]],
      ["sfprompt", "sfl-prompt", "fl-full"],
    ],
    ["--methods naming the job's own method adds nothing", ["sfprompt", true, ["sfprompt"]], ["sfprompt"]],
  ];
  for (const [name, args, want] of cases) it(name, () => assert.deepEqual(methodsToRun(...args), want));

  it("parses --methods, dropping blanks and repeats", () => {
    assert.equal(parseMethodsFlag(undefined), undefined);
    assert.deepEqual(parseMethodsFlag(" sfl-prompt, fl-full,,sfl-prompt "), ["sfl-prompt", "fl-full"]);
  });

  const bad: Array<[string, string | boolean, RegExp]> = [
    [
      "an unknown method, listing the known ones",
      "sfl,fl-full",
      /unknown method "sfl"; choose from sfprompt, sfl-prompt/,
    ],
    ["an empty list", ",", /--methods needs a comma-separated list/],
    ["the flag without a value", true, /--methods needs a comma-separated list/],
  ];
  for (const [name, v, msg] of bad)
    it(`refuses ${name}`, () =>
      assert.throws(
        () => parseMethodsFlag(v),
        (e: unknown) => e instanceof UsageError && msg.test(e.message),
      ));
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
