// A chunked request cut off mid-transfer and sent again after NATS came back with another
// max_payload (a nats-server restarted with a new config), against real nats-servers: the resend is
// chunked for the server it now talks to and completes on the responder that holds the first chunks,
// instead of being refused because its chunks no longer match the ones that responder holds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { serveFrames, type FrameInit } from "@sfprompt/protocol";
import { startLocalNats, type LocalNats } from "@sfprompt/protocol/testing";
import { startTcpRelay } from "../../../../images/shell/test/tcp-relay.js";
import { Reconnects, requestAcrossReconnects, type ResendInfo } from "../../src/client/reconnects.js";

const FIRST_MAX_PAYLOAD = 4096;
/** Bytes the relay cuts at: they sit past what chunk 0 carries, in chunk 1. */
const MARKER = "CUT-AT-CHUNK-ONE";

/** A frame of three 4 KiB chunks whose chunk 1 carries MARKER (and chunk 0 does not). */
function chunkedRequest(step: number): FrameInit {
  const data = new Int32Array((3 * FIRST_MAX_PAYLOAD) / 4 - 256);
  new Uint8Array(data.buffer).set(Buffer.from(MARKER), FIRST_MAX_PAYLOAD + 64);
  return {
    kind: "activation",
    job: "resend",
    client: "client-0",
    round: 1,
    step,
    tensors: [{ name: "x", dtype: "int32", shape: [data.length], data }],
  };
}

const cases = [
  { name: "a larger max_payload (two chunks of the new size)", maxPayload: 8192 },
  { name: "a smaller max_payload (seven chunks of the new size)", maxPayload: 2048 },
];

for (const c of cases) {
  test(`a chunked request cut off after its first chunk completes when NATS comes back with ${c.name}`, async () => {
    let nats: LocalNats = await startLocalNats({ maxPayload: FIRST_MAX_PAYLOAD });
    const relay = await startTcpRelay(nats.url, MARKER);
    const again = { maxReconnectAttempts: -1, reconnectTimeWait: 50 };
    const server = await connect({ servers: nats.url, ...again });
    const nc = await connect({ servers: relay.url, ...again });
    const reconnects = new Reconnects(nc);
    const responder = await serveFrames(server, {
      subject: "sfp.resend.body.fwd",
      job: "resend",
      // the transfer the cut left behind stays until this inactivity timeout
      limits: { timeoutMs: 60_000 },
      handler: (r) => ({ meta: { length: r.tensors[0]?.data.length ?? -1 } }),
    });
    const resent: ResendInfo[] = [];
    // the cut came with chunk 1, so the responder holds chunk 0; NATS restarts with another config
    const restarted = relay.wasCut.then(async () => {
      const port = nats.port;
      await nats.stop();
      nats = await startLocalNats({ maxPayload: c.maxPayload, port });
      relay.restore();
    });
    try {
      const request = chunkedRequest(7);
      const reply = await requestAcrossReconnects(
        nc,
        "sfp.resend.body.fwd",
        request,
        { timeoutMs: 5_000, retries: 3, backoffMs: 100 },
        reconnects,
        (r) => resent.push(r),
      );
      await restarted;
      assert.equal(nc.info?.max_payload, c.maxPayload, "the client talks to the restarted server");
      assert.equal(reply.header.meta.length, request.tensors![0]!.data.length);
      assert.equal(resent.length, 1);
      assert.equal(responder.stats().handled, 1);
      assert.deepEqual(responder.stats().errors, {}, "no chunk refused");
    } finally {
      await reconnects.close();
      await nc.close();
      await responder.stop();
      await server.close();
      await relay.close();
      await nats.stop();
    }
  });
}
