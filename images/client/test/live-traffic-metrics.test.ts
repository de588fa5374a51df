// The client process's bytes are live, against a real nats-server: this test stands in for the
// server with a real responder and its own ledger, answers a few polls, then holds the next one;
// while the client waits on it (its runtime far from returning), /metrics already holds every byte
// the client sent and received, which are the stand-in's received and sent.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { TrafficLedger, jobSubjects, serveFrames, type ReplyInit } from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { tinyBundle, type BundleFixture } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { ENTRY, get, runConfig, spawnEntry, tempDir } from "../../shell/test/harness.js";
import { peerTotals, trafficSeries } from "../../shell/test/traffic-series.js";

let nats: TestNats;
let bundle: BundleFixture;
const tmp = tempDir();

before(async () => {
  nats = await startNatsServer();
  bundle = tinyBundle();
});
after(async () => {
  await nats.stop();
  bundle.remove();
  tmp.remove();
});

/** Polls answered before the stand-in holds one. */
const ANSWERED = 3;

test("the client's /metrics counts its bytes while it runs, equal to what its peer counted", async () => {
  // a poll held is not retried within the scrape: the request timeout is far longer
  const config = runConfig({ transport: { requestTimeoutSeconds: 120 } }, "cli-live-traffic");
  const job = config.names.job;
  const path = tmp.write("cli-live-traffic.json", JSON.stringify(config));
  const args = ["--config", path, "--nats-url", nats.url, "--http-host", "127.0.0.1", "--http-port", "0"];
  const nc = await connect({ servers: nats.url });
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
  const proc = spawnEntry(ENTRY.client, [...args, "--bundle-dir", bundle.dir, "--client-index", "0"]);
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
