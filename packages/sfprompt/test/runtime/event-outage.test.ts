// Progress events across a NATS outage, against a real nats-server killed and started again on the
// same port and store: events published while it is away (for longer than a few publish timeouts)
// reach the stream once it is back, in order, and a publisher with more events waiting than it may
// keep drops client states first, saying so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ensureJobResources, fetchEvents } from "@sfprompt/protocol";
import { startLocalNats, type LocalNats } from "@sfprompt/protocol/testing";
import { EventPublisher, jsonLogger, type EventBody } from "@sfprompt/core";

const bytes = { up: 1, down: 2, byKind: { control: 3 } };
const finished = (round: number): EventBody => ({
  type: "round.finished",
  round,
  loss: 1,
  accuracy: 0.5,
  participants: ["client-0"],
  samples: 10,
  bytes,
  durationMs: 5,
});

test("events published while NATS is away for 35 s reach the stream when it is back, every round.finished in order", async () => {
  const store = mkdtempSync(join(tmpdir(), "sfprompt-events-"));
  let nats: LocalNats = await startLocalNats({ storeDir: store });
  const port = nats.port;
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const logs: Record<string, unknown>[] = [];
  const logger = jsonLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  const job = "events-outage";
  try {
    await ensureJobResources(nc, job);
    const publisher = new EventPublisher(nc, job, logger);
    await publisher.publish(finished(1));
    process.kill(nats.pid, "SIGKILL");
    await nats.stop();
    const during = [finished(2), { type: "client.state", client: "client-0", state: "idle" }, finished(3)];
    const sent = during.map((e) => publisher.publish(e as EventBody));
    await new Promise((r) => setTimeout(r, 35_000));
    nats = await startLocalNats({ storeDir: store, port });
    await Promise.all(sent);
    const events = await fetchEvents(nc, job, "reader");
    assert.deepEqual(
      events.map((d) => (d.ok ? `${d.event.type} ${"round" in d.event ? d.event.round : ""}` : "bad")),
      ["round.finished 1", "round.finished 2", "client.state ", "round.finished 3"],
    );
    assert.deepEqual(
      logs.filter((l) => l.event === "event-publish-failed"),
      [],
    );
  } finally {
    await nc.close();
    await nats.stop();
    rmSync(store, { recursive: true, force: true });
  }
});

test("a publisher over its queue bound drops the oldest waiting client states first, with a warning", async () => {
  const nats = await startLocalNats();
  const nc = await connect({ servers: nats.url });
  const logs: Record<string, unknown>[] = [];
  const logger = jsonLogger({ write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  const job = "events-bounded";
  try {
    // no stream yet: the first event is retried while the others wait behind it
    const publisher = new EventPublisher(nc, job, logger, undefined, { maxQueued: 3, backoffMs: 50 });
    const sent = [
      publisher.publish(finished(1)),
      publisher.publish({ type: "client.state", client: "client-0", state: "idle" }),
      publisher.publish({ type: "client.state", client: "client-1", state: "idle" }),
      publisher.publish(finished(2)),
      publisher.publish(finished(3)),
    ];
    await new Promise((r) => setTimeout(r, 200));
    await ensureJobResources(nc, job);
    await Promise.all(sent);
    const events = await fetchEvents(nc, job, "reader");
    assert.deepEqual(
      events.map((d) => (d.ok ? `${d.event.type} ${"round" in d.event ? d.event.round : ""}` : "bad")),
      ["round.finished 1", "round.finished 2", "round.finished 3"],
    );
    const dropped = logs.filter((l) => l.event === "event-dropped");
    assert.deepEqual(
      dropped.map((l) => [l.level, l.type, l.client]),
      [
        ["warn", "client.state", "client-0"],
        ["warn", "client.state", "client-1"],
      ],
    );
  } finally {
    await nc.close();
    await nats.stop();
  }
});
