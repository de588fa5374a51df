// The client process's bytes are live, against a real nats-server: this test stands in for the
// server with a real responder and its own ledger, answers a few polls, then holds the next one;
// while the client waits on it (its runtime far from returning), /metrics already holds every byte
// the client sent and received, which are the stand-in's received and sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { TrafficLedger, jobSubjects, serveFrames, type ReplyInit } from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { peerTotals, trafficSeries } from "../../shell/test/traffic-series.js";

const f = useProcessFixture();

/** Polls answered before the stand-in holds one. */
const ANSWERED = 3;

test("the client's /metrics counts its bytes while it runs, equal to what its peer counted", async () => {
  // a poll held is not retried within the scrape: the request timeout is far longer
  const config = runConfig({ transport: { requestTimeoutSeconds: 120 } }, "cli-live-traffic");
  const job = config.names.job;
  const nc = await connect({ servers: f.nats.url });
  const theirs = new TrafficLedger();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  let polls = 0;
  const responder = await serveFrames(nc, {
    job,
    subject: jobSubjects(job).roundReport,
    ledger: theirs,
    handler: async (): Promise<ReplyInit> => {
      if (++polls > ANSWERED) {
        holding();
        await gate;
      }
      return { kind: "control", meta: { action: "wait" } };
    },
  });
  const proc = spawnEntry(ENTRY.client, [...f.entryArgs(config, "cli-live-traffic"), "--client-index", "0"]);
  try {
    const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
    await held;
    const body = (await get(port, "/metrics")).body;
    const ended = proc.logs.filter((l) => ["client.done", "runtime.finished"].includes(l.event));
    assert.deepEqual(ended, [], "the client is still running");
    const expected = peerTotals(theirs);
    assert.deepEqual(expected.messages, { "control/sent": ANSWERED + 1, "control/received": ANSWERED });
    assert.deepEqual(trafficSeries(body, "sfprompt_process_bytes_total"), expected.bytes);
    assert.deepEqual(trafficSeries(body, "sfprompt_process_messages_total"), expected.messages);
  } finally {
    proc.kill("SIGKILL");
    release();
    await responder.stop();
    await nc.close();
  }
});
