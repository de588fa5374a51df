// A client's requests to its server (ServerLink) and to the body service (remoteBody), against a real
// nats-server: many of them leave nothing behind on the client's signal, which lives as long as the
// client (its own signal and its job's end), as the reconnect epoch lives as long as the connection.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jobSubjects, serveFrames, TrafficLedger, type FrameResponder } from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { f32Tensor } from "../../src/bundle/tensors.js";
import { remoteBody } from "../../src/client/body-link.js";
import { Reconnects } from "../../src/client/reconnects.js";
import { ServerLink } from "../../src/client/server-link.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { heapGrowth } from "./heap-growth.js";
import { jobConfig } from "./job-fixture.js";

const config = jobConfig({}, "signals");
const subjects = jobSubjects(config.names.job);

let nats: TestNats;
let nc: NatsConnection;
let responders: FrameResponder[];
before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  responders = await Promise.all([
    serveFrames(nc, { subject: subjects.roundReport, job: config.names.job, handler: () => ({}) }),
    serveFrames(nc, {
      subject: subjects.bodyForward,
      job: config.names.job,
      handler: (r) => ({
        kind: "activation",
        tensors: [{ name: "body_out", dtype: "float32", shape: [1, 2], data: r.tensors[0]!.data }],
      }),
    }),
  ]);
});
after(async () => {
  await Promise.all(responders?.map((r) => r.stop()) ?? []);
  await nc?.close();
  await nats?.stop();
});

/** The client's signal as runClient makes it: its own signal or its job's end. */
function clientSignal(): { signal: AbortSignal; stop(): void } {
  const own = new AbortController();
  const ending = new AbortController();
  return { signal: AbortSignal.any([own.signal, ending.signal]), stop: () => own.abort() };
}

test("requests to the server leave nothing behind on the client's signal", async () => {
  const client = clientSignal();
  const reconnects = new Reconnects(nc);
  const link = new ServerLink(
    nc,
    config,
    "client-0",
    new TrafficLedger(),
    client.signal,
    silentLogger,
    reconnects,
  );
  try {
    const growth = await heapGrowth(() => link.request(subjects.roundReport, { kind: "control", round: 1 }));
    // a signal per request listed in the client's two long-lived sources: 0.8 to 1.4 MB per 20 000
    // here; with none, under 0.3 MB
    assert.ok(Math.min(...growth) < 500_000, `heap grew ${growth.join(" and ")} bytes over 20 000 requests`);
  } finally {
    client.stop();
    await reconnects.close();
  }
});

test("body forwards leave nothing behind on the client's signal", async () => {
  const client = clientSignal();
  const reconnects = new Reconnects(nc);
  let step = 0;
  const body = remoteBody({
    nc,
    job: config.names.job,
    client: "client-0",
    headOutput: "head_out",
    bodyOutput: "body_out",
    codecs: { activationsUp: "f32", gradientsUp: "f32" },
    ledger: new TrafficLedger(),
    timeoutMs: 10_000,
    nextStep: () => ++step,
    reconnects,
    signal: client.signal,
  });
  const headOut = f32Tensor(new Float32Array([0.5, -1]), [1, 2]);
  try {
    const growth = await heapGrowth(() => body.forward(1, headOut));
    assert.ok(Math.min(...growth) < 500_000, `heap grew ${growth.join(" and ")} bytes over 20 000 forwards`);
  } finally {
    client.stop();
    await reconnects.close();
  }
});
