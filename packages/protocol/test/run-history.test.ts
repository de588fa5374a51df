// The run.history progress event (ADR 0046, amendment 6): the rounds up to the checkpoint a server goes
// on from, from the checkpoint's history. Its schema names a bad field (a round past the checkpoint's,
// rounds out of order), each round range of a server start gets a dedup id of its own (a retried
// publish is a duplicate, the next range or start is not), and it reaches the job's stream but not
// the clients' job-end listeners.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ensureJobResources,
  eventDedupId,
  EventSchemaError,
  fetchEvents,
  parseEvent,
  publishEvent,
} from "@sfprompt/protocol";
import { jobEndsHeardDuring, useNats } from "./nats-hooks.js";

const nats = useNats();

/** A history round `round` (accuracy `accuracy`); `over` replaces fields (undefined: left out). */
function row(round: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const r: Record<string, unknown> = {
    round,
    loss: 1 / round,
    accuracy: 0.5,
    participants: ["client-0", "client-1"],
    samples: 40,
    bytes: { up: 300, down: 100, byKind: { activation: 250, gradient: 150 } },
    durationMs: 900,
    finishedAt: `2026-11-29T04:0${round}:00.000Z`,
    ...over,
  };
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
}

/** run.history of job `job`'s checkpoint of round 3 with `rounds`; `over` replaces fields. */
function history(
  job: string,
  rounds: Record<string, unknown>[],
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    v: 1,
    job,
    at: "2026-11-29T04:10:00.000Z",
    attempt: "a1",
    launch: "l1",
    type: "run.history",
    round: 3,
    rounds,
    ...over,
  };
}

describe("run.history schema", () => {
  const valid: [string, Record<string, unknown>][] = [
    ["the rounds up to the checkpoint", history("b", [row(1), row(2), row(3)])],
    ["a later range of them", history("b", [row(3)])],
    [
      "rounds of an older server's checkpoint (no finishedAt)",
      history("b", [row(1, { finishedAt: undefined })]),
    ],
  ];
  for (const [name, event] of valid)
    it(`parses ${name}`, () => {
      assert.deepEqual(parseEvent(event), event);
    });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["no rounds", history("b", []), "rounds"],
    ["a round past the checkpoint's", history("b", [row(2), row(4)]), "rounds.1.round"],
    ["rounds out of order", history("b", [row(2), row(1)]), "rounds.1.round"],
    ["a round twice", history("b", [row(2), row(2)]), "rounds.1.round"],
    ["an accuracy above 1", history("b", [row(1, { accuracy: 50 })]), "rounds.0.accuracy"],
    ["a loss that is not finite", history("b", [row(1, { loss: Number.NaN })]), "rounds.0.loss"],
    ["a round without its bytes", history("b", [row(1, { bytes: undefined })]), "rounds.0.bytes"],
    ["checkpoint round 0", history("b", [row(1)], { round: 0 }), "round"],
  ];
  for (const [name, event, field] of invalid)
    it(`refuses ${name}, naming ${field}`, () => {
      assert.throws(
        () => parseEvent(event),
        (err: unknown) => err instanceof EventSchemaError && err.field === field,
      );
    });

  it("gets one dedup id per server start, checkpoint and round range", () => {
    const e = parseEvent(history("b", [row(1), row(2)]));
    assert.equal(eventDedupId(e), "b:a1:l1:run.history:3:1");
    const ids = [
      eventDedupId(parseEvent(history("b", [row(3)]))),
      eventDedupId(parseEvent(history("b", [row(1), row(2)], { launch: "l2" }))),
    ];
    for (const id of ids) assert.notEqual(id, eventDedupId(e));
  });
});

describe("run.history on the wire", () => {
  it("lands on the job's stream once per range and server start, and a job-end listener does not receive it", async () => {
    const job = "history-b";
    await ensureJobResources(nats.nc, job);
    const first = parseEvent(history(job, [row(1), row(2)]));
    const next = parseEvent(history(job, [row(3)]));
    const restart = parseEvent(history(job, [row(1), row(2)], { launch: "l2" }));
    const ends = await jobEndsHeardDuring(nats, job, async () => {
      for (const e of [first, first, next, restart]) await publishEvent(nats.nc, e);
    });
    const stored = (await fetchEvents(nats.nc, job, "reader", { max: 10 })).flatMap((d) =>
      d.ok ? [d.event] : [],
    );
    assert.deepEqual(stored, [first, next, restart], "the retried publish is a duplicate");
    assert.deepEqual(ends, []);
  });
});
