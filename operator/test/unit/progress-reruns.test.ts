// The operator's view of rounds a resumed server runs again (ADR 0041, 0043): the best accuracy and
// each client's last round follow the rounds as they stand, not everything ever reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ProgressEvent } from "@sfprompt/protocol";
import { MAX_RECENT } from "../../src/progress/client-rounds.js";
import { applyProgressEvent } from "../../src/progress/events.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";

const base = { v: 1 as const, job: "default_demo", at: "2026-01-01T00:00:00Z" };

function fold(events: ProgressEvent[]): ProgressSnapshot {
  return events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());
}

/** round.finished of round `r`; participants by client index. */
const round = (r: number, accuracy: number, participants: number[] = [0]): ProgressEvent => ({
  ...base,
  type: "round.finished",
  round: r,
  loss: 1 / r,
  accuracy,
  participants: participants.map((i) => `client-${i}`),
  samples: 10,
  bytes: { up: 1, down: 1, byKind: {} },
  durationMs: 5,
});

const checkpoint = (r: number): ProgressEvent => ({
  ...base,
  type: "checkpoint.written",
  round: r,
  bucket: "b",
  object: `ckpt/${r}`,
  size: 9,
});

const reported = (client: number, state: "idle" | "lost", r: number): ProgressEvent => ({
  ...base,
  type: "client.state",
  client: `client-${client}`,
  state,
  round: r,
});

/** Rounds 1..n in order, each with `accuracy(r)` and the same participants. */
const rounds = (n: number, accuracy: (r: number) => number, participants?: number[]): ProgressEvent[] =>
  Array.from({ length: n }, (_, i) => round(i + 1, accuracy(i + 1), participants));

test("the best accuracy is the best of the rounds as they stand", () => {
  const cases: { name: string; events: ProgressEvent[]; best: [number, number] }[] = [
    {
      name: "rounds in order keep the best so far",
      events: [round(1, 0.5), round(2, 0.7), round(3, 0.6)],
      best: [0.7, 2],
    },
    {
      name: "a re-run round that does worse than its discarded run leaves the best to the rounds before",
      events: [round(1, 0.5), round(2, 0.6), round(3, 0.9), round(3, 0.55)],
      best: [0.6, 2],
    },
    {
      name: "rounds after a re-run round no longer count until they finish again",
      events: [round(1, 0.5), round(2, 0.6), round(3, 0.7), round(4, 0.95), round(3, 0.65)],
      best: [0.65, 3],
    },
    {
      name: "the re-run rounds count as they finish again",
      events: [round(1, 0.5), round(2, 0.9), round(3, 0.7), round(2, 0.6), round(3, 0.8)],
      best: [0.8, 3],
    },
    {
      name: "a re-run round that does better is the best",
      events: [round(1, 0.5), round(2, 0.6), round(2, 0.8)],
      best: [0.8, 2],
    },
    {
      name: "a tie names the earliest round, also after a re-run",
      events: [round(1, 0.7), round(2, 0.6), round(3, 0.9), round(3, 0.7)],
      best: [0.7, 1],
    },
  ];
  for (const c of cases) {
    const s = fold(c.events);
    assert.deepEqual([s.bestAccuracy, s.bestRound], c.best, c.name);
  }
});

test("a client's last round is the latest it took part in among the rounds as they stand", () => {
  const cases: { name: string; events: ProgressEvent[]; lastRounds: Record<number, number | undefined> }[] = [
    {
      name: "a client left out of a re-run round goes back to its round before (the checkpoint's)",
      events: [
        ...rounds(2, () => 0.5, [0, 1, 2]),
        checkpoint(2),
        round(3, 0.5, [0, 1, 2]),
        round(3, 0.5, [0, 1]),
      ],
      lastRounds: { 0: 3, 1: 3, 2: 2 },
    },
    {
      name: "a re-run of several rounds without a client takes back all of them",
      events: [
        ...rounds(2, () => 0.5, [0, 1]),
        checkpoint(2),
        round(3, 0.5, [0, 1]),
        round(4, 0.5, [0, 1]),
        round(5, 0.5, [0, 1]),
        round(3, 0.5, [0]),
      ],
      lastRounds: { 0: 3, 1: 2 },
    },
    {
      name: "a client's own report of a round the round's finish leaves it out of does not count",
      events: [...rounds(2, () => 0.5, [0, 1]), reported(1, "lost", 3), round(3, 0.5, [0])],
      lastRounds: { 0: 3, 1: 2 },
    },
    {
      name: "a client's report of the round under way counts until the round finishes",
      events: [...rounds(2, () => 0.5, [0, 1]), reported(1, "idle", 3)],
      lastRounds: { 0: 2, 1: 3 },
    },
    {
      name: "a re-run back past the newest checkpoint (an older one resumed) forgets what it settled",
      events: [
        round(1, 0.5, [0, 1]),
        checkpoint(2),
        round(2, 0.5, [0, 1]),
        round(3, 0.5, [0, 1]),
        checkpoint(4),
        round(4, 0.5, [0, 1]),
        round(3, 0.5, [0]),
      ],
      lastRounds: { 0: 3, 1: undefined },
    },
  ];
  for (const c of cases) {
    const s = fold(c.events);
    const got = Object.fromEntries(
      Object.keys(c.lastRounds).map((i) => [i, s.clients[Number(i)]?.lastRound]),
    );
    assert.deepEqual(got, c.lastRounds, c.name);
  }
});

test("a checkpoint settles the rounds up to it: only later ones are kept per client", () => {
  const s = fold([
    ...rounds(3, () => 0.5, [0, 1]),
    checkpoint(4),
    round(4, 0.5, [0, 1]),
    round(5, 0.5, [0, 1]),
    round(6, 0.5, [1]),
  ]);
  assert.deepEqual(s.clientRounds, {
    0: { recent: [4, 5], settled: 3 },
    1: { recent: [4, 5, 6], settled: 3 },
  });
});

test("the rounds kept per client are bounded, and a re-run within them still finds the round before", () => {
  const n = MAX_RECENT * 3;
  const long = rounds(n, () => 0.5, [0, 1]);
  const s = fold(long);
  assert.ok(s.clientRounds[0]!.recent.length <= MAX_RECENT, "at most MAX_RECENT rounds per client");
  const back = n - MAX_RECENT / 2;
  const rerun = applyProgressEvent(s, round(back, 0.5, [1]), n + 1);
  assert.equal(rerun.clients[0]!.lastRound, back - 1, "the round before the re-run one");
  assert.equal(rerun.clients[1]!.lastRound, back);
  const farBack = applyProgressEvent(s, round(MAX_RECENT, 0.5, [1]), n + 1);
  assert.equal(farBack.clients[0]!.lastRound, undefined, "before the kept rounds: not known any more");
});

test("a new attempt starts the rounds over", () => {
  const first = fold([...rounds(3, (r) => r / 10, [0, 1]).map((e) => ({ ...e, attempt: "first" }))]);
  const s = applyProgressEvent(first, { ...round(1, 0.05, [1]), attempt: "second" }, 9);
  assert.deepEqual(
    [s.bestAccuracy, s.bestRound, s.roundAccuracy, s.clientRounds, s.clients[0]],
    [0.05, 1, { 1: 0.05 }, { 1: { recent: [1] } }, undefined],
  );
});
