// The run.resumed progress event (ADR 0046): its schema names a bad field, a resumed server's start
// publishes it once (a repeat of that start is de-duplicated, the next start's is kept), and, on its
// own subject, it reaches the job's stream but not the clients' job-end listeners.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ensureJobResources,
  eventDedupId,
  EventSchemaError,
  fetchEvents,
  parseEvent,
  publishEvent,
  type ProgressEvent,
  type RunResumed,
} from "@sfprompt/protocol";
import { jobEndsHeardDuring, useNats } from "./nats-hooks.js";

const nats = useNats();

/** A run.resumed of job `job` going on from job a's round-2 checkpoint; `over` (undefined: left out). */
function resumed(job: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const e: Record<string, unknown> = {
    v: 1,
    job,
    at: "2026-11-27T11:00:00.000Z",
    attempt: "b1",
    launch: "l1",
    type: "run.resumed",
    round: 2,
    bucket: "sfp-default_a-artifacts",
    object: "checkpoints/round-000002",
    from: { job: "a", bucket: "sfp-default_a-artifacts" },
    inherited: { job: "a", round: 2 },
    ...over,
  };
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
}

describe("run.resumed schema", () => {
  const valid: [string, Record<string, unknown>][] = [
    ["a resume from another job's checkpoint, naming it and the rounds it trained", resumed("b")],
    [
      "a restart from the job's own checkpoint, after going on from another job",
      resumed("b", { round: 3, bucket: "sfp-default_b-artifacts", from: undefined }),
    ],
    [
      "a restart of a job that trained all its rounds itself",
      resumed("b", { round: 3, from: undefined, inherited: undefined }),
    ],
    ["a resume with its checkpoint round's loss and accuracy", resumed("b", { loss: 0.75, accuracy: 0.5 })],
    [
      "a restart with the best accuracy of the job's rounds up to its checkpoint",
      resumed("b", {
        round: 4,
        from: undefined,
        loss: 0.75,
        accuracy: 0.5,
        best: { round: 3, accuracy: 0.625 },
      }),
    ],
    [
      "a restart whose best is its checkpoint's round",
      resumed("b", { round: 4, from: undefined, best: { round: 4, accuracy: 0.5 } }),
    ],
  ];
  for (const [name, event] of valid)
    it(`parses ${name}`, () => {
      const e = parseEvent(event);
      assert.equal(e.type, "run.resumed");
      assert.deepEqual(e, event);
    });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["round 0 (a run from round 1 publishes none)", resumed("b", { round: 0 }), "round"],
    ["a round that is no integer", resumed("b", { round: 2.5 }), "round"],
    ["no checkpoint object", resumed("b", { object: "" }), "object"],
    ["no bucket", resumed("b", { bucket: undefined }), "bucket"],
    ["a source without its bucket", resumed("b", { from: { job: "a" } }), "from.bucket"],
    ["inherited rounds without a round", resumed("b", { inherited: { job: "a" } }), "inherited.round"],
    ["an accuracy above 1", resumed("b", { loss: 0.75, accuracy: 75 }), "accuracy"],
    ["a loss that is not finite", resumed("b", { loss: Number.POSITIVE_INFINITY, accuracy: 0.5 }), "loss"],
    ["a best accuracy above 1", resumed("b", { best: { round: 1, accuracy: 62.5 } }), "best.accuracy"],
    ["a best without its round", resumed("b", { best: { accuracy: 0.5 } }), "best.round"],
    [
      "a best of a round past the checkpoint's",
      resumed("b", { round: 2, best: { round: 3, accuracy: 0.5 } }),
      "best.round",
    ],
  ];
  for (const [name, event, field] of invalid)
    it(`refuses ${name}, naming ${field}`, () => {
      assert.throws(
        () => parseEvent(event),
        (err: unknown) => err instanceof EventSchemaError && err.field === field,
      );
    });

  it("gets one dedup id per server start and round", () => {
    const e = parseEvent(resumed("b"));
    assert.equal(eventDedupId(e), "b:b1:l1:run.resumed:2");
    assert.notEqual(eventDedupId(parseEvent(resumed("b", { launch: "l2" }))), eventDedupId(e));
  });
});

describe("run.resumed on the wire", () => {
  it("lands on the job's stream once per server start, and a job-end listener does not receive it", async () => {
    const job = "resumed-b";
    await ensureJobResources(nats.nc, job);
    const first = parseEvent(resumed(job));
    const restart = parseEvent(resumed(job, { launch: "l2", round: 3, from: undefined }));
    const published = [first, first, restart];
    const acks: Awaited<ReturnType<typeof publishEvent>>[] = [];
    const ends = await jobEndsHeardDuring(nats, job, async () => {
      for (const e of published) acks.push(await publishEvent(nats.nc, e));
    });
    assert.deepEqual(
      acks.map((a) => a.duplicate),
      [false, true, false],
      "a retried publish of one start is a duplicate",
    );
    assert.deepEqual(ends, [], "clients hear job ends only");
    const got = await fetchEvents(nats.nc, job, "reader");
    const events: ProgressEvent[] = got.flatMap((d) => (d.ok ? [d.event] : []));
    assert.equal(got.length, 2);
    assert.deepEqual(
      events.map((e) => [(e as RunResumed).round, (e as RunResumed).from?.job ?? null]),
      [
        [2, "a"],
        [3, null],
      ],
    );
  });
});
