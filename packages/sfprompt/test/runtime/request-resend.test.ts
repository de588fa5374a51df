// A request sent again when NATS reconnects (requestAcrossReconnects), against a real nats-server
// behind a TCP relay the test cuts: a chunked request cut off mid-transfer is completed by its resend
// on a responder that takes one transfer at a time, and a request whose connection keeps being
// replaced gives up after its retries instead of being sent again for as long as that goes on; and
// many requests leave nothing on the long-lived signals they follow.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RequestTimeoutError, serveFrames, type FrameInit } from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { startTcpRelay, type TcpRelay } from "../../../../images/shell/test/tcp-relay.js";
import { Reconnects, requestAcrossReconnects, type ResendInfo } from "../../src/client/reconnects.js";
import { heapGrowth } from "./heap-growth.js";

const MAX_PAYLOAD = 4096;
/** Bytes the relay cuts at: they sit past what chunk 0 carries, in chunk 1. */
const MARKER = "CUT-AT-CHUNK-ONE";

let nats: TestNats;
before(async () => {
  nats = await startNatsServer({ maxPayload: MAX_PAYLOAD });
});
after(async () => {
  await nats?.stop();
});

/** A frame of three chunks whose chunk 1 carries MARKER (and chunk 0 does not). */
function chunkedRequest(step: number): FrameInit {
  const data = new Int32Array((3 * MAX_PAYLOAD) / 4 - 256);
  new Uint8Array(data.buffer).set(Buffer.from(MARKER), MAX_PAYLOAD + 64);
  return {
    kind: "activation",
    job: "resend",
    client: "client-0",
    round: 1,
    step,
    tensors: [{ name: "x", dtype: "int32", shape: [data.length], data }],
  };
}

/** A client connection through `relay` that reconnects at once, and its Reconnects. */
async function clientThrough(relay: TcpRelay): Promise<{ nc: NatsConnection; reconnects: Reconnects }> {
  const nc = await connect({ servers: relay.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  return { nc, reconnects: new Reconnects(nc) };
}

test("a chunked request cut off after its first chunk is completed by its resend on a responder that takes one transfer at a time", async () => {
  const relay = await startTcpRelay(nats.url, MARKER);
  const server = await connect({ servers: nats.url });
  const { nc, reconnects } = await clientThrough(relay);
  const responder = await serveFrames(server, {
    subject: "sfp.resend.body.fwd",
    job: "resend",
    // the transfer the cut left behind stays until this inactivity timeout
    limits: { maxInFlight: 1, timeoutMs: 60_000 },
    handler: (r) => ({ meta: { length: r.tensors[0]?.data.length ?? -1 } }),
  });
  const resent: ResendInfo[] = [];
  try {
    void relay.wasCut.then(() => setTimeout(() => relay.restore(), 200));
    const request = chunkedRequest(7);
    const reply = await requestAcrossReconnects(
      nc,
      "sfp.resend.body.fwd",
      request,
      { timeoutMs: 5_000, retries: 3, backoffMs: 50 },
      reconnects,
      (r) => resent.push(r),
    );
    assert.equal(reply.header.meta.length, request.tensors![0]!.data.length);
    assert.deepEqual(
      resent.map((r) => [r.subject, r.round, r.kind]),
      [["sfp.resend.body.fwd", 1, "activation"]],
    );
    assert.equal(responder.stats().handled, 1);
    assert.deepEqual(responder.stats().errors, {}, "no transfer was refused as busy");
  } finally {
    await reconnects.close();
    await nc.close();
    await responder.stop();
    await server.close();
    await relay.close();
  }
});

test("a request whose connection is replaced again and again gives up after its retries, as one that times out", async () => {
  const relay = await startTcpRelay(nats.url);
  const server = await connect({ servers: nats.url });
  // a service that takes the request and never answers: only a timeout or a reconnect ends a wait
  const silent = server.subscribe("sfp.resend.round.report");
  await server.flush();
  const { nc, reconnects } = await clientThrough(relay);
  const flapping = setInterval(() => {
    relay.cut();
    setTimeout(() => relay.restore(), 50);
  }, 400);
  const resent: ResendInfo[] = [];
  try {
    const request = { ...chunkedRequest(9), tensors: [], kind: "control" as const };
    // Three sends cut short by reconnects take about 3 × 400 ms; a request that waited out a reply
    // timeout (20 s) even once would still be waiting at 15 s. The message says which ended it. (A
    // 3 s bound on the whole, with a 3 s reply timeout, was a race on a loaded machine.)
    const outcome = await Promise.race([
      requestAcrossReconnects(
        nc,
        "sfp.resend.round.report",
        request,
        { timeoutMs: 20_000, retries: 2, backoffMs: 50 },
        reconnects,
        (r) => resent.push(r),
      ).then(
        () => "answered",
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve("still waiting after 15 s"), 15_000)),
    ]);
    assert.ok(outcome instanceof RequestTimeoutError, `${String(outcome)} (${resent.length} resends)`);
    assert.match(outcome.message, /NATS reconnected 3 times while it waited/);
    assert.equal(resent.length, 2, "sent again at most `retries` times");
  } finally {
    clearInterval(flapping);
    silent.unsubscribe();
    await reconnects.close();
    await nc.close();
    await server.close();
    await relay.close();
  }
});

test("requests that are not resent leave nothing behind on the connection's long-lived signals", async () => {
  const nc = await connect({ servers: nats.url });
  const responder = await serveFrames(nc, {
    subject: "sfp.resend.params.global",
    job: "resend",
    handler: () => ({}),
  });
  const reconnects = new Reconnects(nc);
  // the client's signal lives as long as the client, as the reconnect epoch lives as long as the connection
  const client = new AbortController();
  const send = (step: number): Promise<unknown> =>
    requestAcrossReconnects(
      nc,
      "sfp.resend.params.global",
      { kind: "control", job: "resend", client: "client-0", round: 1, step },
      { signal: client.signal },
      reconnects,
      undefined,
    );
  try {
    let step = 0;
    const growth = await heapGrowth(() => send(step++));
    // AbortSignal.any left ~100 bytes per request on the two long-lived signals: 2 MB per 20 000
    assert.ok(Math.min(...growth) < 800_000, `heap grew ${growth.join(" and ")} bytes over 20 000 requests`);
  } finally {
    await reconnects.close();
    await responder.stop();
    await nc.close();
  }
});
