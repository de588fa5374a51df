import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  DataPlaneError,
  encodeFrame,
  FrameDtypeError,
  FrameShapeError,
  jobSubjects,
  NonFiniteTensorError,
  parseChunk,
  requestFrame,
  serveFrames,
  TrafficLedger,
  UnknownClientError,
  UnknownJobError,
  type FrameResponder,
  type RemoteErrorCode,
  type TensorEntry,
} from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { baseFrame, f32Bytes, headerFor, randomTensor, rawFrame } from "./builders.js";

const job = baseFrame.job;
const subject = jobSubjects(job).bodyForward;
let server: TestNats;
let serverConn: NatsConnection;
let clientConn: NatsConnection;
let responder: FrameResponder;
const serverLedger = new TrafficLedger();

before(async () => {
  server = await startNatsServer({ maxPayload: 64 * 1024 });
  serverConn = await connect({ servers: server.url });
  clientConn = await connect({ servers: server.url });
  responder = await serveFrames(serverConn, {
    subject,
    job,
    isKnownClient: (c) => c === "c0" || c === "c1",
    expect: [{ name: "x", dtype: "float32", shape: [null, 3] }],
    handler: (req) => ({ tensors: req.tensors }),
    ledger: serverLedger,
    limits: { maxInFlight: 1 },
  });
});
after(async () => {
  await responder.stop();
  await Promise.all([serverConn.close(), clientConn.close()]);
  await server.stop();
});

const six = f32Bytes([1, 2, 3, 4, 5, 6]);
// every request gets its own step: a repeated idempotency key would be answered from the reply cache
let lastStep = 100;
const step = (): number => ++lastStep;
const x23Entry: TensorEntry = { name: "x", dtype: "float32", codec: "f32", shape: [2, 3], byteLength: 24 };
const x23: TensorEntry[] = [x23Entry];
const flipLast = (m: Uint8Array): Uint8Array =>
  Uint8Array.from(m, (b, i) => (i === m.length - 1 ? b ^ 1 : b));

/** Raw messages a broken or hostile peer might send, and the code of the error reply each must get. */
const rawCases: { name: string; message: () => Uint8Array; code: RemoteErrorCode }[] = [
  { name: "an empty message", message: () => new Uint8Array(0), code: "bad-header" },
  {
    name: "random bytes",
    message: () => Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) % 251),
    code: "bad-header",
  },
  {
    name: "a truncated header",
    message: () => rawFrame(headerFor(six, { step: step(), tensors: [...x23] }), six).subarray(0, 60),
    code: "bad-header",
  },
  {
    name: "a size that disagrees with the shape",
    message: () => rawFrame(headerFor(six, { step: step(), tensors: [{ ...x23Entry, shape: [3, 3] }] }), six),
    code: "bad-size",
  },
  {
    name: "a corrupted payload",
    message: () => flipLast(rawFrame(headerFor(six, { step: step(), tensors: [...x23] }), six)),
    code: "bad-checksum",
  },
  {
    name: "a NaN activation",
    message: () =>
      rawFrame(
        headerFor(f32Bytes([1, 2, 3, NaN, 5, 6]), { step: step(), tensors: [...x23] }),
        f32Bytes([1, 2, 3, NaN, 5, 6]),
      ),
    code: "non-finite",
  },
  {
    name: "a frame of another job",
    message: () => rawFrame(headerFor(six, { step: step(), job: "job-b", tensors: [...x23] }), six),
    code: "unknown-job",
  },
  {
    name: "a frame of an unknown client",
    message: () => rawFrame(headerFor(six, { step: step(), client: "c9", tensors: [...x23] }), six),
    code: "unknown-client",
  },
  {
    name: "a wrong shape",
    message: () => rawFrame(headerFor(six, { step: step(), tensors: [{ ...x23Entry, shape: [3, 2] }] }), six),
    code: "bad-shape",
  },
  {
    name: "a chunk of a transfer never started",
    message: () =>
      encodeFrame({ ...baseFrame, tensors: [randomTensor("x", [9000, 3], 1)] }, 64 * 1024).chunks[1]!,
    code: "incomplete",
  },
];

describe("bad frames on a live responder", () => {
  it("answers each bad frame kind with its error code, counts it, and keeps serving", async () => {
    const before = responder.stats();
    for (const c of rawCases) {
      const reply = await clientConn.request(subject, c.message(), { timeout: 2000 });
      const { header } = parseChunk(reply.data);
      assert.equal(header.type, "error", c.name);
      assert.equal(header.meta.code, c.code, `${c.name}: ${String(header.meta.message)}`);
      const ok = await requestFrame(clientConn, subject, {
        ...baseFrame,
        step: step(),
        tensors: [randomTensor("x", [2, 3], 5)],
      });
      assert.equal(ok.tensors[0]!.shape.join("x"), "2x3", `still serving after ${c.name}`);
    }
    const stats = responder.stats();
    const counts: Partial<Record<RemoteErrorCode, number>> = {};
    for (const c of rawCases) counts[c.code] = (counts[c.code] ?? 0) + 1;
    for (const [code, n] of Object.entries(counts)) {
      assert.equal(
        (stats.errors[code as RemoteErrorCode] ?? 0) - (before.errors[code as RemoteErrorCode] ?? 0),
        n,
        code,
      );
    }
    assert.equal(stats.handled - before.handled, rawCases.length);
    assert.ok(serverLedger.total({ kind: "invalid", direction: "received" }).messages >= 3);
  });

  const typed = [
    { name: "an unknown client", init: { client: "c7" }, error: UnknownClientError, field: /field client/ },
    { name: "another job's frame", init: { job: "job-z" }, error: UnknownJobError, field: /field job/ },
    {
      name: "a wrong shape",
      init: { tensors: [randomTensor("x", [2, 4], 1)] },
      error: FrameShapeError,
      field: /tensors\.x/,
    },
    {
      name: "a wrong dtype",
      init: { tensors: [{ name: "x", dtype: "int32", shape: [2, 3], data: new Int32Array(6) }] },
      error: FrameDtypeError,
      field: /tensors\.x/,
    },
    {
      name: "an Infinity",
      init: {
        tensors: [{ name: "x", dtype: "float32", shape: [1, 3], data: new Float32Array([0, Infinity, 1]) }],
      },
      error: NonFiniteTensorError,
      field: /element 1/,
    },
  ] as const;
  for (const c of typed) {
    it(`rebuilds ${c.error.name} on the requester for ${c.name}, naming the frame and field`, async () => {
      const init = { ...baseFrame, step: step(), tensors: [randomTensor("x", [2, 3], 1)], ...c.init };
      await assert.rejects(requestFrame(clientConn, subject, init), (e: unknown) => {
        assert.ok(e instanceof c.error, String(e));
        assert.ok(e instanceof DataPlaneError && e.remote);
        assert.match(e.message, c.field);
        assert.match(e.message, new RegExp(`client=${init.client} round=2 step=${init.step}`));
        return true;
      });
    });
  }

  it("answers busy while its one reassembly slot is taken, and the requester's retry then succeeds", async () => {
    const other = await connect({ servers: server.url });
    try {
      const held = encodeFrame(
        { ...baseFrame, client: "c1", step: step(), tensors: [randomTensor("x", [9000, 3], 2)] },
        64 * 1024,
      );
      const ack = parseChunk((await other.request(subject, held.chunks[0]!, { timeout: 2000 })).data).header;
      assert.equal(ack.type, "ack"); // c1's transfer now holds the only slot
      const mine = { ...baseFrame, step: step(), tensors: [randomTensor("x", [9000, 3], 3)] };
      const busy = await clientConn.request(subject, encodeFrame(mine, 64 * 1024).chunks[0]!, {
        timeout: 2000,
      });
      assert.equal(parseChunk(busy.data).header.meta.code, "busy");
      const retried = requestFrame(clientConn, subject, mine, { retries: 8, backoffMs: 20 });
      await new Promise((r) => setTimeout(r, 60));
      for (const chunk of held.chunks.slice(1))
        await other.request(String(ack.meta.next), chunk, { timeout: 2000 });
      const reply = await retried;
      assert.deepEqual(reply.tensors[0]!.data, mine.tensors[0]!.data);
    } finally {
      await other.close();
    }
  });
});
