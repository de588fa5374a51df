// The progress view after run.history (ADR 0046, amendments 6 and 7): the rounds of a checkpoint's
// history fill in the rounds the followed stream lacks, in the rounds views, the bytes per round
// (status.communication) and the rounds each client took part in (status.clients[].lastRound); the
// rounds it reported stay as they are (also those after the checkpoint, until their re-run takes
// them back, ADR 0043); the status's round, metrics and best are run.resumed's and round.finished's
// business, not history's.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { HistoryRound, ProgressEvent } from "@sfprompt/protocol";
import { applyProgressEvent } from "../../src/progress/events.js";
import { roundsInOrder } from "../../src/progress/round-history.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { communicationOf } from "../../src/status/communication.js";

const base = { v: 1 as const, job: "default_j", attempt: "a1" };
const bytes = (r: number): HistoryRound["bytes"] => ({
  up: 300 * r,
  down: 100 * r,
  byKind: { activation: 250 * r, gradient: 150 * r },
});

/**
 * A history round `r` (accuracy `accuracy`) aggregated at minute r, unless `finishedAt` is null, with
 * `participants` (client-0 alone unless given).
 */
const row = (
  r: number,
  accuracy: number,
  finishedAt: string | null = `2026-01-01T00:0${r}:00.000Z`,
  participants = ["client-0"],
): HistoryRound => ({
  round: r,
  loss: 1 / r,
  accuracy,
  participants,
  samples: 10,
  bytes: bytes(r),
  durationMs: 100 * r,
  ...(finishedAt === null ? {} : { finishedAt }),
});

const history = (round: number, rounds: HistoryRound[]): ProgressEvent => ({
  ...base,
  at: "2026-01-01T01:00:00.000Z",
  launch: "second",
  type: "run.history",
  round,
  rounds,
});

const finished = (
  r: number,
  accuracy: number,
  launch = "first",
  participants = ["client-0", "client-1"],
): ProgressEvent => ({
  ...base,
  at: `2026-01-01T00:1${r}:00.000Z`,
  launch,
  type: "round.finished",
  round: r,
  loss: 2 / r,
  accuracy,
  participants,
  samples: 20,
  bytes: bytes(r),
  durationMs: 900,
});

const fold = (events: ProgressEvent[]): ProgressSnapshot =>
  events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());

const shown = (s: ProgressSnapshot): [number, number, string][] =>
  roundsInOrder(s.roundHistory).map((r) => [r.round, r.accuracy, r.at]);

test("a lost stream: the history's rounds are the views' rounds, dated when they were aggregated (an older server's checkpoint: when the event was sent)", () => {
  const s = fold([history(3, [row(1, 0.4), row(2, 0.6), row(3, 0.5, null)])]);
  assert.deepEqual(shown(s), [
    [1, 0.4, "2026-01-01T00:01:00.000Z"],
    [2, 0.6, "2026-01-01T00:02:00.000Z"],
    [3, 0.5, "2026-01-01T01:00:00.000Z"],
  ]);
  const r2 = s.roundHistory[2]!;
  assert.deepEqual(r2.bytes, { up: 600, down: 200, total: 800, byKind: { activation: 500, gradient: 300 } });
  assert.deepEqual([r2.loss, r2.clients, r2.samples, r2.durationMs], [0.5, ["client-0"], 10, 200]);
  // the round, metrics and best are run.resumed's, not history's
  assert.deepEqual(
    [s.round, s.loss, s.accuracy, s.bestAccuracy, s.roundAccuracy],
    [undefined, undefined, undefined, undefined, {}],
  );
});

/** Each client's last round and the bytes, as the status shows them. */
const statusOf = (s: ProgressSnapshot): [Record<number, number | undefined>, number | undefined] => [
  Object.fromEntries(Object.entries(s.clients).map(([i, c]) => [Number(i), c.lastRound])),
  communicationOf(s)?.total,
];

test("a lost stream: the history's rounds count in the bytes and in each client's last round, as their round.finished would have", () => {
  const rows = [row(1, 0.4, null, ["client-0", "client-1"]), row(2, 0.6, null, ["client-0"]), row(3, 0.5)];
  const s = fold([history(3, rows)]);
  // 400 + 800 + 1200 bytes; client-1 last took part in round 1
  assert.deepEqual(statusOf(s), [{ 0: 3, 1: 1 }, 2400]);
  const followed = fold([
    finished(1, 0.4),
    finished(2, 0.6, "first", ["client-0"]),
    finished(3, 0.5, "first", ["client-0"]),
  ]);
  assert.deepEqual(statusOf(s), statusOf(followed));
  // the rounds are settled: a resume from that checkpoint never runs them again
  assert.deepEqual(s.clientRounds[1], { recent: [], settled: 1 });
});

test("a stream that still holds some rounds: their bytes and participants are not counted again", () => {
  const s = fold([finished(2, 0.65), history(3, [row(1, 0.4), row(2, 0.6), row(3, 0.5)])]);
  // round 2 as the stream reported it (client-0 and client-1), rounds 1 and 3 from the history
  assert.deepEqual(statusOf(s), [{ 0: 3, 1: 2 }, 400 + 800 + 1200]);
  assert.deepEqual(s.roundBytes[2], bytes(2));
});

test("a stream that still holds some rounds: only the missing ones are filled in, the reported ones stay", () => {
  const s = fold([finished(2, 0.65), history(3, [row(1, 0.4), row(2, 0.6), row(3, 0.5)])]);
  assert.deepEqual(shown(s), [
    [1, 0.4, "2026-01-01T00:01:00.000Z"],
    [2, 0.65, "2026-01-01T00:12:00.000Z"],
    [3, 0.5, "2026-01-01T00:03:00.000Z"],
  ]);
});

test("a restart from a checkpoint older than the rounds reported: the later rounds stay until their re-run replaces them and drops the ones after", () => {
  const s = fold([
    finished(1, 0.4),
    finished(2, 0.6),
    finished(3, 0.7),
    finished(4, 0.75),
    history(2, [row(1, 0.4), row(2, 0.6)]),
  ]);
  assert.deepEqual(
    shown(s).map(([r, a]) => [r, a]),
    [
      [1, 0.4],
      [2, 0.6],
      [3, 0.7],
      [4, 0.75],
    ],
  );
  const rerun = applyProgressEvent(s, finished(3, 0.72, "second"), 6);
  assert.deepEqual(
    shown(rerun).map(([r, a]) => [r, a]),
    [
      [1, 0.4],
      [2, 0.6],
      [3, 0.72],
    ],
  );
});

test("a history of a replaced attempt changes nothing; one of a new attempt starts the views again", () => {
  const s = fold([finished(1, 0.4), finished(2, 0.6)]);
  const newer = applyProgressEvent(s, { ...history(1, [row(1, 0.3)]), attempt: "a2" }, 3);
  assert.deepEqual(shown(newer), [[1, 0.3, "2026-01-01T00:01:00.000Z"]]);
  const stale = applyProgressEvent(newer, history(2, [row(1, 0.4), row(2, 0.6)]), 4);
  assert.deepEqual(stale.roundHistory, newer.roundHistory);
});
