// The best accuracy a resumed server announces in run.resumed (ADR 0046, amendment 5), from its
// checkpoint's history: each round's accuracy as its round.finished gave it, the earliest round of
// the best, and only the rounds the job trained itself, up to the checkpoint's round.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bestOwnRound, type BestRound, type RoundMetrics } from "@sfprompt/core";

/** A history row of `round` with `accuracy` (null: the round was not evaluated). */
function row(round: number, accuracy: number | null): RoundMetrics {
  return {
    round,
    loss: 1 / round,
    accuracy,
    evalLoss: accuracy === null ? null : 1,
    participants: ["client-0"],
    selected: ["client-0"],
    samples: 10,
    kept: 10,
    bytes: { up: 1, down: 1, byKind: {} },
    clientFlops: 1,
    durationMs: 1,
  };
}

const cases: {
  name: string;
  history: RoundMetrics[];
  inherited?: { round: number };
  upTo: number;
  want: BestRound | undefined;
}[] = [
  {
    name: "the highest accuracy of the rounds, not the last one",
    history: [row(1, 0.4), row(2, 0.7), row(3, 0.6)],
    upTo: 3,
    want: { round: 2, accuracy: 0.7 },
  },
  {
    name: "of rounds with the same accuracy, the earliest",
    history: [row(1, 0.4), row(2, 0.7), row(3, 0.7)],
    upTo: 3,
    want: { round: 2, accuracy: 0.7 },
  },
  {
    name: "an unevaluated round counts with the accuracy before it, as its round.finished gave it, and 0 before any",
    history: [row(1, null), row(2, 0.5), row(3, null)],
    upTo: 3,
    want: { round: 2, accuracy: 0.5 },
  },
  {
    name: "a history without any evaluation has its first round best, at 0",
    history: [row(1, null), row(2, null)],
    upTo: 2,
    want: { round: 1, accuracy: 0 },
  },
  {
    name: "rounds after the checkpoint's are not counted",
    history: [row(1, 0.4), row(2, 0.5), row(3, 0.9)],
    upTo: 2,
    want: { round: 2, accuracy: 0.5 },
  },
  {
    name: "the rounds of rows given out of order count by their round",
    history: [row(3, 0.6), row(1, 0.6), row(2, null)],
    upTo: 3,
    want: { round: 1, accuracy: 0.6 },
  },
  {
    name: "another job's rounds do not count, but an unevaluated own round repeats their last accuracy",
    history: [row(1, 0.4), row(2, 0.9), row(3, null), row(4, 0.5)],
    inherited: { round: 2 },
    upTo: 4,
    want: { round: 3, accuracy: 0.9 },
  },
  {
    name: "a job going on from another job's checkpoint has trained none of its rounds: no best",
    history: [row(1, 0.4), row(2, 0.9)],
    inherited: { round: 2 },
    upTo: 2,
    want: undefined,
  },
  { name: "an empty history has no best", history: [], upTo: 3, want: undefined },
];

for (const c of cases)
  test(c.name, () => assert.deepEqual(bestOwnRound(c.history, c.inherited, c.upTo), c.want));
