// The client process's request histogram against a real nats-server: this test answers the client's
// polls with a real responder, then goes away (leaving one poll unanswered), then swallows them;
// /metrics then counts every poll the client made under its outcome (ok, unavailable, timeout), each
// with its retries in its latency.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jobSubjects, serveFrames, type FrameResponder } from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry, until } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestCounts, requestSeries } from "../../shell/test/request-histogram.js";

const f = useProcessFixture();

/** Polls answered before the stand-in server goes away. */
const ANSWERED = 3;

test("the client's /metrics counts its polls by outcome: answered, no server, and no reply in time (retries included)", async () => {
  // a 1 s request timeout: a poll nobody answers takes its 4 attempts in about 4 s
  const config = runConfig({ transport: { requestTimeoutSeconds: 1 } }, "cli-requests");
  const job = config.names.job;
  const nc = await connect({ servers: f.nats.url });
  const subject = jobSubjects(job).roundReport;
  // the stand-in server: answers "wait" to ANSWERED polls; the next one it never answers but goes
  // away. It stops only once the client has every answer: an answer late past the 1 s timeout is
  // sent again from the reply cache, never lost to a stopped server (the ok count is exact)
  let stopped: Promise<void> | undefined;
  let answered = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const responder: FrameResponder = await serveFrames(nc, {
    job,
    subject,
    handler: async () => {
      if (++answered > ANSWERED) {
        stopped ??= responder.stop();
        await gate;
      }
      return { kind: "control", meta: { action: "wait" } };
    },
  });
  const proc = spawnEntry(ENTRY.client, [...f.entryArgs(config, "cli-requests"), "--client-index", "0"]);
  try {
    const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
    const counts = async (): Promise<Record<string, number>> =>
      requestCounts((await get(port, "/metrics")).body);
    await until(
      async () => ((await counts())["poll/unavailable"] ? true : undefined),
      60_000,
      "a poll with no server",
    );
    // gone from NATS (no responders): let the held poll's handler end, so stop() can finish
    release();
    await stopped;
    // now a subscriber that never replies: the polls time out
    const swallow = nc.subscribe(subject);
    await nc.flush();
    await until(
      async () => (((await counts())["poll/timeout"] ?? 0) >= 2 ? true : undefined),
      60_000,
      "two polls timed out",
    );
    swallow.unsubscribe();

    const series = requestSeries((await get(port, "/metrics")).body);
    assert.deepEqual([...series.keys()].sort(), ["poll/ok", "poll/timeout", "poll/unavailable"]);
    assert.equal(series.get("poll/ok")!.count, ANSWERED, "every answered poll, once");
    const timeout = series.get("poll/timeout")!;
    // the client's latency spans every attempt: a poll sent after the swallower came took four waits
    // of 1 s; only the one in flight at the switch may have had fewer (sent while no one listened)
    assert.ok(timeout.sum >= 4 * (timeout.count - 1) + 1, `${timeout.sum} s, ${timeout.count} polls`);
    assert.ok(timeout.buckets.get("2.5")! <= 1, "at most one timed-out poll took under 2.5 s");
    for (const [key, s] of series) assert.equal(s.inf, s.count, `${key}: the +Inf bucket holds every poll`);
  } finally {
    release();
    proc.kill("SIGKILL");
    await nc.close();
  }
});
