// The rounds a resumed server sends in run.history (ADR 0046, amendment 6), from its checkpoint's
// history: each round as its round.finished gave it, only the job's own (not those inherited from
// another job), split into events that each fit a NATS message of the job's max_payload, as the
// protocol's schema parses them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseEvent, type RoundFinished } from "@sfprompt/protocol";
import type { RoundMetrics } from "@sfprompt/core";
import { historyChunks, historyRounds } from "../../src/server/run-records.js";

/** A history row of `round` with `accuracy` (null: not evaluated); `clients` participants. */
function row(round: number, accuracy: number | null, clients = 2): RoundMetrics {
  const participants = Array.from({ length: clients }, (_, i) => `client-${i}`);
  return {
    round,
    loss: 1 / round,
    accuracy,
    evalLoss: accuracy === null ? null : 1,
    participants,
    selected: participants,
    samples: 50,
    kept: 40,
    bytes: {
      up: 300 * round,
      down: 100 * round,
      byKind: { activation: 250 * round, gradient: 150 * round },
      upByKind: { activation: 150 * round, gradient: 150 * round },
      downByKind: { activation: 100 * round },
    },
    clientFlops: 1,
    durationMs: 900 + round,
    finishedAt: new Date(Date.UTC(2026, 10, 29, 4, 0, round)).toISOString(),
  };
}

/** The event the publisher sends for `rounds`, with the longest names the schema allows. */
function event(round: number, rounds: ReturnType<typeof historyRounds>): string {
  const longest = "x".repeat(64);
  return JSON.stringify({
    v: 1,
    job: longest,
    at: new Date().toISOString(),
    attempt: longest,
    launch: longest,
    type: "run.history",
    round,
    rounds,
  });
}

test("each round as its round.finished gave it: an unevaluated one the last evaluated accuracy before it (0 before any), the kept samples", () => {
  const history = [row(1, null), row(2, 0.6), row(3, null), row(4, 0.7)];
  const rounds = historyRounds(history, undefined);
  assert.deepEqual(
    rounds.map((r) => [r.round, r.accuracy, r.samples]),
    [
      [1, 0, 40],
      [2, 0.6, 40],
      [3, 0.6, 40],
      [4, 0.7, 40],
    ],
  );
  // the fields a round.finished of the round carries, as the server announces them
  const e = parseEvent(JSON.parse(event(4, rounds)));
  assert.equal(e.type, "run.history");
  const r2 = e.rounds[1]!;
  const finished: Pick<RoundFinished, "loss" | "participants" | "bytes" | "durationMs"> = {
    loss: 0.5,
    participants: ["client-0", "client-1"],
    bytes: {
      up: 600,
      down: 200,
      byKind: { activation: 500, gradient: 300 },
      upByKind: { activation: 300, gradient: 300 },
      downByKind: { activation: 200 },
    },
    durationMs: 902,
  };
  assert.deepEqual(
    { loss: r2.loss, participants: r2.participants, bytes: r2.bytes, durationMs: r2.durationMs },
    finished,
  );
  assert.equal(r2.finishedAt, history[1]!.finishedAt);
});

test("the rounds another job trained are left out, their accuracy still carrying into the job's first unevaluated round", () => {
  const rounds = historyRounds([row(1, 0.5), row(2, 0.55), row(3, null), row(4, 0.6)], { round: 2 });
  assert.deepEqual(
    rounds.map((r) => [r.round, r.accuracy]),
    [
      [3, 0.55],
      [4, 0.6],
    ],
  );
  assert.deepEqual(historyRounds([row(1, 0.5), row(2, 0.55)], { round: 2 }), []);
});

test("a long history is split into ascending round ranges whose events each fit max_payload, and the ranges together are the history", () => {
  const history = Array.from({ length: 2000 }, (_, i) => row(i + 1, i % 2 === 0 ? null : 0.5, 10));
  const rounds = historyRounds(history, undefined);
  for (const maxPayload of [4096, 65_536, 1_048_576, 8_388_608]) {
    const { chunks, leftOut } = historyChunks(rounds, 2000, maxPayload);
    assert.deepEqual(leftOut, [], `max_payload ${maxPayload}: no round left out`);
    assert.deepEqual(chunks.flat(), rounds, `max_payload ${maxPayload}: every round once, in order`);
    const limit = Math.min(maxPayload, 1024 * 1024);
    for (const c of chunks) {
      const bytes = Buffer.byteLength(event(2000, c));
      assert.ok(bytes <= limit, `max_payload ${maxPayload}: an event of ${bytes} bytes`);
      parseEvent(JSON.parse(event(2000, c)));
    }
    if (maxPayload === 4096) assert.ok(chunks.length > 100, `${chunks.length} events at 4 KiB`);
  }
  assert.equal(
    historyChunks(rounds.slice(0, 3), 3, 1_048_576).chunks.length,
    1,
    "a short history is one event",
  );
  assert.deepEqual(historyChunks([], 3, 1_048_576), { chunks: [], leftOut: [] }, "no rounds, no event");
});

test("a round that does not fit a message by itself is left out and returned with its event's size, the others are sent", () => {
  const rounds = historyRounds([row(1, 0.5), row(2, 0.5, 40), row(3, 0.5)], undefined);
  const { chunks, leftOut } = historyChunks(rounds, 3, 1100);
  assert.deepEqual(
    chunks.flat().map((r) => r.round),
    [1, 3],
  );
  for (const c of chunks) assert.ok(Buffer.byteLength(event(3, c)) <= 1100);
  const alone = JSON.stringify({ type: "run.history", round: 3, rounds: [rounds[1]] });
  assert.deepEqual(leftOut, [{ round: 2, bytes: Buffer.byteLength(alone), limit: 1100 - 512 }]);
});
