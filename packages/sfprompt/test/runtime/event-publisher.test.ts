// The server's event publisher against a real nats-server: a publish that finds no stream yet is
// retried until the stream is there (the event lands once), and one that never succeeds gives up with
// a warning instead of throwing into the training loop.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ensureJobResources, fetchEvents } from "@sfprompt/protocol";
import { EventPublisher, type EventBody, type Logger } from "@sfprompt/core";
import { natsFixture, type NatsFixture } from "./job-fixture.js";

let nats: NatsFixture;
before(async () => {
  nats = await natsFixture();
});
after(async () => {
  await nats.stop();
});

interface Logged {
  level: string;
  event: string;
  fields: Record<string, unknown>;
}

function memoryLogger(into: Logged[]): Logger {
  const logger: Logger = {
    log: (level, event, fields = {}) => void into.push({ level, event, fields }),
    child: () => logger,
  };
  return logger;
}

const roundStarted: EventBody = { type: "round.started", round: 3, selected: ["client-0"] };

describe("EventPublisher", () => {
  test("retries a publish until the job's stream exists; the stream holds each event once, in order", async () => {
    const job = "events-late-stream";
    const logs: Logged[] = [];
    const publisher = new EventPublisher(nats.nc, job, memoryLogger(logs), undefined, {
      attempts: 8,
      backoffMs: 100,
    });
    const published = publisher.publish(roundStarted);
    // queued behind the first while it is retried: it must not overtake it on the stream
    const second = publisher.publish({ type: "client.state", client: "client-0", state: "idle", round: 3 });
    // the stream appears only after the first attempt has failed (no stream listens on the subject):
    // its logged retry says so, however long a loaded machine took to get there
    for (const end = Date.now() + 30_000; !logs.some((l) => l.event === "event-publish-retry");) {
      assert.ok(Date.now() < end, "no retry was logged");
      await new Promise((r) => setTimeout(r, 10));
    }
    await ensureJobResources(nats.nc, job);
    await Promise.all([published, second]);
    const events = await fetchEvents(nats.nc, job, "reader");
    assert.deepEqual(
      events.map((d) => (d.ok ? { type: d.event.type, job: d.event.job } : d.error.message)),
      [
        { type: "round.started", job },
        { type: "client.state", job },
      ],
    );
    const retries = logs.filter((l) => l.event === "event-publish-retry");
    assert.ok(retries.length >= 1, `expected a logged retry, got ${JSON.stringify(logs)}`);
    assert.equal(retries[0]!.fields.type, "round.started");
    assert.equal(retries[0]!.fields.attempt, 1);
    assert.equal(logs.filter((l) => l.event === "event-publish-failed").length, 0);
  });

  test("holds events until the run's attempt is known, then sends them all stamped with it, in order", async () => {
    const job = "events-held";
    await ensureJobResources(nats.nc, job);
    const publisher = new EventPublisher(nats.nc, job, memoryLogger([]));
    publisher.holdUntilAttempt();
    const sent = [
      publisher.publish({ type: "client.state", client: "client-0", state: "connected" }),
      publisher.publish(roundStarted),
    ];
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await fetchEvents(nats.nc, job, "early"), [], "nothing went out before the attempt");
    publisher.startAttempt("a1b2");
    publisher.startAttempt("other"); // the first attempt stands
    await Promise.all(sent);
    const events = await fetchEvents(nats.nc, job, "late");
    assert.deepEqual(
      events.map((d) => (d.ok ? [d.event.type, d.event.attempt] : d.error.message)),
      [
        ["client.state", "a1b2"],
        ["round.started", "a1b2"],
      ],
    );
  });

  test("does not retry an event that fails its schema: one warning naming the field", async () => {
    const logs: Logged[] = [];
    const publisher = new EventPublisher(nats.nc, "events-bad", memoryLogger(logs), undefined, {
      attempts: 5,
      backoffMs: 10,
    });
    // a negative round number is outside the schema
    await publisher.publish({ ...roundStarted, round: -1 });
    assert.deepEqual(
      logs.map((l) => [l.level, l.event, l.fields.attempts, (l.fields.error as { field?: string }).field]),
      [["warn", "event-publish-failed", 1, "round"]],
    );
  });

  test("gives up after its attempts with one warning naming the event, without throwing", async () => {
    const logs: Logged[] = [];
    const seen: string[] = [];
    const publisher = new EventPublisher(
      nats.nc,
      "events-no-stream",
      memoryLogger(logs),
      (e) => seen.push(e.type),
      { attempts: 3, backoffMs: 10 },
    );
    await publisher.publish(roundStarted);
    assert.deepEqual(seen, ["round.started"], "in-process listeners get the event whatever the stream does");
    assert.deepEqual(
      logs.map((l) => [l.level, l.event, l.fields.attempt ?? l.fields.attempts]),
      [
        ["info", "event-publish-retry", 1],
        ["info", "event-publish-retry", 2],
        ["warn", "event-publish-failed", 3],
      ],
    );
  });
});
