// The per-round history the operator serves (rounds.json, the charts): one entry per round as the
// rounds stand, folded from the job's progress events the way a replay from the stream's start does.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ProgressEvent } from "@sfprompt/protocol";
import { applyProgressEvent } from "../../src/progress/events.js";
import { roundsInOrder, type RoundRecord } from "../../src/progress/round-history.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";

const base = { v: 1 as const, job: "default_demo", at: "2026-01-01T00:00:00Z" };

function fold(events: ProgressEvent[]): ProgressSnapshot {
  return events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());
}

/** round.finished of round `r` with accuracy `accuracy`; `launch` tells a resumed server's apart. */
const round = (r: number, accuracy: number, launch = "first"): ProgressEvent => ({
  ...base,
  launch,
  type: "round.finished",
  round: r,
  loss: 1 / r,
  accuracy,
  participants: [`client-${r % 2}`],
  samples: 10 * r,
  bytes: { up: 100 * r, down: 50 * r, byKind: { activation: 60 * r, gradient: 90 * r } },
  durationMs: 7 * r,
});

const resumed = (r: number): ProgressEvent => ({
  ...base,
  launch: "second",
  type: "run.resumed",
  round: r,
  bucket: "b",
  object: `ckpt/${r}`,
});

/** The history as [round, accuracy] pairs, ascending. */
const accuracies = (s: ProgressSnapshot): [number, number][] =>
  roundsInOrder(s.roundHistory).map((r) => [r.round, r.accuracy]);

test("the round history keeps one entry per round as the rounds stand", () => {
  const cases: { name: string; events: ProgressEvent[]; rounds: [number, number][] }[] = [
    {
      name: "rounds in order are all kept",
      events: [round(1, 0.5), round(2, 0.6), round(3, 0.7)],
      rounds: [
        [1, 0.5],
        [2, 0.6],
        [3, 0.7],
      ],
    },
    {
      name: "a round.finished delivered twice (a replay, a retried publish) is one entry",
      events: [round(1, 0.5), round(2, 0.6), round(2, 0.6)],
      rounds: [
        [1, 0.5],
        [2, 0.6],
      ],
    },
    {
      name: "a resume keeps the rounds up to its checkpoint and replaces the ones it runs again",
      events: [
        round(1, 0.5),
        round(2, 0.6),
        round(3, 0.7),
        round(4, 0.8),
        resumed(2),
        round(3, 0.65, "second"),
      ],
      rounds: [
        [1, 0.5],
        [2, 0.6],
        [3, 0.65],
      ],
    },
    {
      name: "a resume that goes on past the last round reported adds to the rounds before",
      events: [round(1, 0.5), round(2, 0.6), resumed(2), round(3, 0.7, "second")],
      rounds: [
        [1, 0.5],
        [2, 0.6],
        [3, 0.7],
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(accuracies(fold(c.events)), c.rounds, c.name);
});

test("a round's entry carries what its round.finished said, bytes totalled", () => {
  const e = round(3, 0.7) as Extract<ProgressEvent, { type: "round.finished" }>;
  const expected: RoundRecord = {
    round: e.round,
    loss: e.loss,
    accuracy: e.accuracy,
    bytes: { up: e.bytes.up, down: e.bytes.down, total: e.bytes.up + e.bytes.down, byKind: e.bytes.byKind },
    clients: e.participants,
    samples: e.samples,
    durationMs: e.durationMs,
    at: e.at,
  };
  assert.deepEqual(fold([e]).roundHistory[3], expected);
});

test("the history is bounded by the job's rounds, however often they are reported", () => {
  const events: ProgressEvent[] = [];
  for (let pass = 0; pass < 5; pass++)
    for (let r = 1; r <= 20; r++) events.push(round(r, r / 40, `launch-${pass}`));
  assert.equal(Object.keys(fold(events).roundHistory).length, 20);
});

test("a new run attempt starts the history again", () => {
  const s = fold([
    { ...round(1, 0.5), attempt: "a" },
    { ...round(2, 0.6), attempt: "a" },
    { ...round(1, 0.3), attempt: "b" },
  ] as ProgressEvent[]);
  assert.deepEqual(accuracies(s), [[1, 0.3]]);
});
