// The rounds no `sfprompt run` session printed: an earlier session stopped after its round-1 line
// while its server trained, checkpointed and announced rounds 2 and 3. The next session's server
// resumes from round 3; that session prints round 2 from the checkpoint, marked as the earlier
// session's, before the resumed round, and records it in metrics.json, so no later session prints it
// again (ADR 0041, amendment 3). The pure part in tables, the rest against a real nats-server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { RoundMetrics as CheckpointRound } from "@sfprompt/core";
import { lacksRoundsUpTo, withEarlierRounds, type CheckpointRounds } from "../src/run/earlier-rounds.js";
import { emptyMetrics, type RunMetrics } from "../src/run/metrics.js";
import { formatBytes } from "@sfprompt/protocol/charts";
import { keepFirstRoundOnly, natsRunWorld, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

const w = natsRunWorld("cli-earlier-rounds-");

/** Round `round` as a checkpoint's history holds it; `accuracy` null: not evaluated. */
function historyRound(round: number, accuracy: number | null = round / 10): CheckpointRound {
  return {
    round,
    loss: 3 - round / 10,
    accuracy,
    evalLoss: accuracy === null ? null : 1,
    participants: ["c0", "c1"],
    selected: ["c0", "c1"],
    samples: 64,
    kept: 60,
    bytes: { up: 1000 * round, down: 500, byKind: { activation: 1000 * round, parameters: 500 } },
    clientFlops: 1e6,
    durationMs: 1500,
    finishedAt: `2026-11-27T10:00:0${round}.000Z`,
  };
}

/** metrics.json holding `rounds` as a session recorded them (from their round.finished events). */
function recorded(...rounds: number[]): RunMetrics {
  const m = emptyMetrics("tiny", "sfprompt");
  return {
    ...m,
    rounds: rounds.map((round) => ({
      round,
      loss: 5,
      accuracy: 0.5,
      bytes: { up: 1, down: 1, total: 2, byKind: {} },
      clients: ["c0"],
      samples: 1,
      durationMs: 1,
      at: "2026-11-27T09:00:00.000Z",
    })),
  };
}

const CASES: ReadonlyArray<{
  readonly name: string;
  readonly metrics: RunMetrics;
  readonly checkpoint: CheckpointRounds;
  readonly resumed: number;
  /** The rounds shown, with their accuracy. */
  readonly shown: ReadonlyArray<readonly [round: number, accuracy: number]>;
  readonly recordedAfter: readonly number[];
}> = [
  {
    name: "a round before the resumed one that metrics.json lacks is shown; the resumed one is recorded, not shown",
    metrics: recorded(1),
    checkpoint: { history: [1, 2, 3].map((r) => historyRound(r)) },
    resumed: 3,
    shown: [[2, 0.2]],
    recordedAfter: [1, 2, 3],
  },
  {
    name: "rounds a session recorded (and so printed) are not shown again",
    metrics: recorded(1, 2, 3),
    checkpoint: { history: [1, 2, 3].map((r) => historyRound(r)) },
    resumed: 3,
    shown: [],
    recordedAfter: [1, 2, 3],
  },
  {
    name: "several missing rounds are shown in round order; an unevaluated one with the accuracy before it",
    metrics: recorded(2),
    checkpoint: { history: [historyRound(1), historyRound(2), historyRound(3, null), historyRound(4)] },
    resumed: 4,
    shown: [
      [1, 0.1],
      [3, 0.5],
    ],
    recordedAfter: [1, 2, 3, 4],
  },
  {
    name: "rounds another job trained (spec.output.resumeFrom) are neither shown nor recorded",
    metrics: recorded(3),
    checkpoint: { history: [1, 2, 3, 4, 5].map((r) => historyRound(r)), inherited: { job: "a", round: 2 } },
    resumed: 5,
    shown: [[4, 0.4]],
    recordedAfter: [3, 4, 5],
  },
  {
    name: "rounds after the resumed one (a newer checkpoint's) are not taken",
    metrics: recorded(1),
    checkpoint: { history: [1, 2, 3].map((r) => historyRound(r)) },
    resumed: 2,
    shown: [],
    recordedAfter: [1, 2],
  },
];

describe("the rounds of a resumed checkpoint that no session printed", () => {
  for (const c of CASES)
    it(c.name, () => {
      const got = withEarlierRounds(c.metrics, c.checkpoint, c.resumed);
      assert.deepEqual(
        got.unprinted.map((r) => [r.round, r.accuracy]),
        c.shown,
      );
      assert.deepEqual(
        got.metrics.rounds.map((r) => r.round),
        c.recordedAfter,
      );
      for (const r of got.unprinted) {
        const h = c.checkpoint.history.find((x) => x.round === r.round)!;
        assert.deepEqual(
          [r.loss, r.bytes.total, r.clientFlops],
          [h.loss, h.bytes.up + h.bytes.down, h.clientFlops],
        );
      }
    });

  it("the checkpoint is read only when metrics.json lacks a round up to the resumed one", () => {
    assert.deepEqual(
      [
        lacksRoundsUpTo(recorded(1, 2, 3), 3),
        lacksRoundsUpTo(recorded(1, 2), 3),
        lacksRoundsUpTo(recorded(2, 3), 3),
      ],
      [false, true, true],
    );
  });
});

/** The lines of rounds (`tiny round N/M …`) in a session's output. */
function roundLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /^tiny round \d/.test(l));
}

describe("sfprompt run after a session that stopped printing while its server trained on", () => {
  it("prints the round neither session printed once, as the earlier session's, before the resumed round", async () => {
    const job = writeTinyJob(w.dir, "{ rounds: 3, batchSize: 16, evaluation: { maxSamples: 50 } }");
    const out = join(w.dir, "run");
    const first = sfprompt("run", job, "--out", out, "--nats", w.nats.url);
    assert.equal(first.code, 0, first.stderr);
    const whole = readRunMetrics(out);
    assert.deepEqual(
      whole.rounds.map((r) => r.round),
      [1, 2, 3],
    );

    // what the first session leaves when it stops after its round-1 line (its server going on to
    // round 3 and the job's end): metrics.json as written per round it printed, without a final line
    keepFirstRoundOnly(out);

    const second = sfprompt("run", job, "--out", out, "--nats", w.nats.url);
    assert.equal(second.code, 0, second.stderr);
    const round2 = whole.rounds[1]!;
    const lines = roundLines(second.stderr);
    assert.equal(lines.length, 2, second.stderr);
    assert.ok(
      lines[0]!.startsWith(
        `tiny round 2/3 (earlier session) loss=${round2.loss.toFixed(4)} ` +
          `accuracy=${(round2.accuracy * 100).toFixed(2)}% bytes=${formatBytes(round2.bytes.total)}`,
      ),
      second.stderr,
    );
    assert.match(lines[1]!, /^tiny round 3\/3 resumed from its own checkpoint loss=/);
    assert.doesNotMatch(second.stderr, /round 1\/3/, "round 1, which the first session printed, is not");
    assert.deepEqual(
      readRunMetrics(out).rounds.map((r) => [r.round, r.loss]),
      whole.rounds.map((r) => [r.round, r.loss]),
    );

    // metrics.json now holds every round: a third session training on prints none as the earlier
    // session's, only where it resumed and its own round
    const third = sfprompt("run", job, "--out", out, "--nats", w.nats.url, "--rounds", "4");
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual(
      roundLines(third.stderr).map((l) => l.replace(/ loss=.*/, "")),
      ["tiny round 3/4 resumed from its own checkpoint", "tiny round 4/4 phase done"],
      third.stderr,
    );
  });
});
