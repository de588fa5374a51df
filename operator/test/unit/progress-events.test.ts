import { test } from "node:test";
import assert from "node:assert/strict";
import type { ProgressEvent } from "@sfprompt/protocol";
import { applyProgressEvent, clientIndexOf } from "../../src/progress/events.js";
import { emptySnapshot, totalBytes, type ProgressSnapshot } from "../../src/progress/snapshot.js";

const base = { v: 1 as const, job: "default_demo", at: "2026-01-01T00:00:00Z" };
const bytes = (up: number, down: number) => ({ up, down, byKind: { activation: up } });

function fold(events: ProgressEvent[]): ProgressSnapshot {
  return events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());
}

const round = (
  r: number,
  accuracy: number,
  participants = ["client-0"],
): Extract<ProgressEvent, { type: "round.finished" }> => ({
  ...base,
  type: "round.finished",
  round: r,
  loss: 1 / r,
  accuracy,
  participants,
  samples: 10,
  bytes: bytes(100 * r, 10),
  durationMs: 5,
});

test("client names map to indexes by their trailing number", () => {
  const cases: [string, number | undefined][] = [
    ["client-0", 0],
    ["default_demo-client-12", 12],
    ["edge", undefined],
  ];
  for (const [name, index] of cases) assert.equal(clientIndexOf(name), index, name);
});

test("finished rounds set round, loss and accuracy, keep the best accuracy, and sum bytes per round", () => {
  const s = fold([round(1, 0.5), round(2, 0.7), round(3, 0.6)]);
  assert.deepEqual([s.round, s.loss, s.accuracy, s.bestAccuracy, s.bestRound], [3, 1 / 3, 0.6, 0.7, 2]);
  assert.deepEqual(totalBytes(s), { up: 600, down: 30 });
  assert.equal(s.sequence, 3);
});

test("a round reported twice (after a server resume) is counted once", () => {
  assert.deepEqual(totalBytes(fold([round(1, 0.5), round(1, 0.5)])), { up: 100, down: 10 });
});

test("the round is the latest one finished: a resume from an older checkpoint or a fresh start goes back", () => {
  const cases: { name: string; rounds: number[]; round: number }[] = [
    { name: "rounds in order", rounds: [1, 2, 3], round: 3 },
    { name: "a resume from the checkpoint of round 2 after round 4", rounds: [1, 2, 3, 4, 3], round: 3 },
    { name: "a run that started over without checkpoints", rounds: [1, 2, 3, 1], round: 1 },
  ];
  for (const c of cases) assert.equal(fold(c.rounds.map((r) => round(r, 0.5))).round, c.round, c.name);
});

test("client states and participation update the per-client view", () => {
  const s = fold([
    { ...base, type: "client.state", client: "client-1", state: "pruning", round: 1 },
    round(1, 0.5, ["client-0", "client-1"]),
    { ...base, type: "client.state", client: "client-1", state: "idle" },
  ]);
  assert.deepEqual(s.clients, { 0: { lastRound: 1 }, 1: { state: "idle", stateAt: base.at, lastRound: 1 } });
});

test("round contributions set each client's samples and kept count; the latest round's win", () => {
  const withCounts = (r: number, kept0: number): ProgressEvent => ({
    ...round(r, 0.5, ["client-0", "client-1"]),
    contributions: [
      { client: "client-0", samples: 50, kept: kept0 },
      { client: "client-1", samples: 30, kept: 15 },
    ],
  });
  const s = fold([withCounts(1, 25), withCounts(2, 26), round(3, 0.5, ["client-0"])]);
  assert.deepEqual(s.clients, {
    0: { lastRound: 3, samples: 50, kept: 26 },
    1: { lastRound: 2, samples: 30, kept: 15 },
  });
});

test("a client state's reason stays with that state: the next state without one clears it", () => {
  const failed = fold([
    { ...base, type: "client.state", client: "client-2", state: "failed", reason: "OOM" },
  ]);
  assert.equal(failed.clients[2]!.reason, "OOM");
  const back = applyProgressEvent(
    failed,
    { ...base, at: "2026-01-01T00:01:00Z", type: "client.state", client: "client-2", state: "connected" },
    2,
  );
  assert.deepEqual(back.clients[2], { state: "connected", stateAt: "2026-01-01T00:01:00Z" });
});

test("server.ready records the execution provider asked for and used; the latest replica's report wins", () => {
  const ready = (instance: string, actual: "cuda" | "cpu", fallbackReason?: string): ProgressEvent => ({
    ...base,
    type: "server.ready",
    instance,
    executionProvider: { requested: "cuda", actual },
    ...(fallbackReason ? { fallbackReason } : {}),
  });
  const s = fold([ready("srv-a", "cuda"), ready("srv-b", "cpu", "libcudart.so.12: not found")]);
  assert.deepEqual(s.server, {
    instance: "srv-b",
    requested: "cuda",
    actual: "cpu",
    fallbackReason: "libcudart.so.12: not found",
    at: base.at,
  });
});

test("checkpoints, job.finished and job.failed set the checkpoint and the outcome", () => {
  const done = fold([
    round(1, 0.5),
    { ...base, type: "checkpoint.written", round: 1, bucket: "b", object: "ckpt/1", size: 9 },
    { ...base, type: "job.finished", rounds: 1, loss: 0.1, accuracy: 0.9, bytes: bytes(5000, 50) },
  ]);
  assert.deepEqual(done.lastCheckpoint, { round: 1, object: "ckpt/1" });
  assert.deepEqual(done.outcome, { kind: "completed", round: 1 });
  assert.deepEqual(totalBytes(done), { up: 5000, down: 50 }, "the job's totals supersede the rounds'");
  const failed = fold([
    { ...base, type: "job.failed", reason: "QuorumNotReached", message: "1 of 3 updates" },
  ]);
  assert.deepEqual(failed.outcome, {
    kind: "failed",
    reason: "QuorumNotReached",
    message: "1 of 3 updates",
    at: base.at,
  });
});

test("an event type this operator does not know keeps the view and moves the sequence", () => {
  const before = fold([round(1, 0.5)]);
  const unknown = { ...base, type: "round.sampled", round: 2 } as unknown as ProgressEvent;
  const after = applyProgressEvent(before, unknown, 99);
  assert.deepEqual({ ...after, sequence: before.sequence }, before);
  assert.equal(after.sequence, 99);
});

test("a run started over (a new attempt) drops everything folded from the attempt before", () => {
  const a1 = { attempt: "first" };
  const before = fold([
    { ...base, ...a1, type: "client.state", client: "client-1", state: "failed", reason: "OOM" },
    {
      ...round(1, 0.9, ["client-0", "client-1"]),
      ...a1,
      contributions: [{ client: "client-0", samples: 50, kept: 25 }],
    },
    { ...round(2, 0.8), ...a1 },
    { ...base, ...a1, type: "checkpoint.written", round: 2, bucket: "b", object: "ckpt/2", size: 9 },
    { ...base, ...a1, type: "job.failed", reason: "QuorumNotReached", message: "1 of 3" },
  ]);
  assert.equal(before.bestAccuracy, 0.9);
  const again = applyProgressEvent(before, { ...round(1, 0.3), attempt: "second" }, 9);
  assert.deepEqual(
    {
      round: again.round,
      best: [again.bestAccuracy, again.bestRound],
      bytes: totalBytes(again),
      clients: again.clients,
      checkpoint: again.lastCheckpoint,
      outcome: again.outcome,
    },
    {
      round: 1,
      best: [0.3, 1],
      bytes: totalBytes(fold([round(1, 0.3)])),
      clients: { 0: { lastRound: 1 } },
      checkpoint: undefined,
      outcome: undefined,
    },
  );
  assert.deepEqual(again.attempts, { current: "second", earlier: ["first"] });
  assert.equal(again.sequence, 9);
});

test("events of a replaced attempt change nothing but the sequence; events without one fold as before", () => {
  const s = fold([
    { ...round(1, 0.4), attempt: "first" },
    { ...round(1, 0.5), attempt: "second" },
  ]);
  const stale = applyProgressEvent(s, { ...round(2, 0.99), attempt: "first" }, 7);
  assert.deepEqual({ ...stale, sequence: s.sequence }, s);
  assert.equal(stale.sequence, 7);
  const legacy = applyProgressEvent(s, round(2, 0.6), 8);
  assert.deepEqual([legacy.round, legacy.bestAccuracy, legacy.attempts.current], [2, 0.6, "second"]);
});

test("server.ready of the replica before stays until the new attempt's server reports", () => {
  const ready = (instance: string, attempt: string): ProgressEvent => ({
    ...base,
    attempt,
    type: "server.ready",
    instance,
    executionProvider: { requested: "cpu", actual: "cpu" },
  });
  const s = fold([ready("srv-a", "first"), { ...round(1, 0.5), attempt: "second" }]);
  assert.equal(s.server?.instance, "srv-a");
  assert.equal(applyProgressEvent(s, ready("srv-b", "second"), 3).server?.instance, "srv-b");
});
