import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkTensors,
  crc32,
  DataPlaneError,
  decodeFrame,
  decodeSingleMessage,
  encodeFrame,
  FrameChecksumError,
  FrameDtypeError,
  FrameHeaderError,
  FrameMetaTooLargeError,
  FrameShapeError,
  FrameSizeError,
  IncompleteTransferError,
  NonFiniteTensorError,
  parseChunk,
  Reassembler,
  ResponderBusyError,
  type FrameHeader,
  type ParsedChunk,
} from "@sfprompt/protocol";
import { baseFrame, f32Bytes, headerFor, randomTensor, rawFrame } from "./builders.js";

describe("frame encoding", () => {
  it("round-trips several tensors of every dtype and codec with their meta in one message", () => {
    const act = randomTensor("hidden", [2, 5, 8], 1);
    const ids = {
      name: "ids",
      dtype: "int64",
      shape: [2, 3],
      data: new BigInt64Array([1n, -2n, 3n, 2n ** 40n, 0n, 9n]),
    } as const;
    const mask = { name: "mask", dtype: "int32", shape: [4], data: new Int32Array([1, 0, -1, 7]) } as const;
    const frame = encodeFrame(
      {
        ...baseFrame,
        meta: { samples: 37, loss: 0.25, note: "x", done: false },
        tensors: [{ ...act, codec: "f16" }, ids, mask],
      },
      1 << 20,
    );
    assert.equal(frame.chunks.length, 1);
    const back = decodeSingleMessage(frame.chunks[0]!);
    assert.deepEqual(back.header.meta, { samples: 37, loss: 0.25, note: "x", done: false });
    assert.deepEqual({ ...back.header, meta: {}, tensors: [] }, { ...frame.header, meta: {}, tensors: [] });
    assert.deepEqual(
      back.tensors.map((t) => [t.name, t.dtype, t.shape]),
      [
        ["hidden", "float32", [2, 5, 8]],
        ["ids", "int64", [2, 3]],
        ["mask", "int32", [4]],
      ],
    );
    assert.deepEqual(back.tensors[1]!.data, ids.data);
    assert.deepEqual(back.tensors[2]!.data, mask.data);
    assert.equal(
      back.header.checksum,
      crc32(frame.chunks[0]!.subarray(frame.chunks[0]!.length - back.header.payloadLength)),
    );
  });

  it("splits a payload larger than max_payload into chunks that reassemble in any order, duplicates ignored", () => {
    const t = randomTensor("x", [100, 250], 9);
    const frame = encodeFrame({ ...baseFrame, tensors: [t] }, 16 * 1024);
    assert.ok(frame.chunks.length >= 7, `${frame.chunks.length} chunks`);
    assert.ok(frame.chunks.every((c) => c.length <= 16 * 1024));
    const order = [...frame.chunks.keys()].reverse().filter((i) => i !== 0);
    const r = new Reassembler();
    let done: ReturnType<Reassembler["accept"]> | undefined;
    for (const i of [0, 0, ...order.slice(0, 2), order[1]!, ...order.slice(2), order[0]!]) {
      const res = r.accept(parseChunk(frame.chunks[i]!));
      if (res.status === "complete") done = res;
    }
    assert.ok(done !== undefined && done.status === "complete");
    const back = decodeFrame(done.header, done.payload);
    assert.deepEqual(back.tensors[0]!.data, t.data);
    assert.equal(crc32(done.payload), frame.header.checksum);
    assert.equal(r.inFlight, 0);
  });

  it("refuses a header that cannot fit in max_payload", () => {
    assert.throws(
      () => encodeFrame({ ...baseFrame, tensors: [randomTensor("x", [4], 1)] }, 40),
      FrameSizeError,
    );
  });

  // The header stores a name's length in one byte: the limit is 255 bytes of UTF-8, not 255 characters.
  const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;
  it("carries a tensor name of exactly 255 bytes of UTF-8", () => {
    const name = "é".repeat(127) + "a";
    assert.equal(utf8Bytes(name), 255);
    const t = { ...randomTensor("x", [3], 4), name };
    const back = decodeSingleMessage(encodeFrame({ ...baseFrame, tensors: [t] }, 1 << 20).chunks[0]!);
    assert.equal(back.tensors[0]!.name, name);
    assert.deepEqual(back.tensors[0]!.data, t.data);
  });

  it("refuses to encode a tensor name of 255 characters but more than 255 bytes, naming the field", () => {
    const name = "é".repeat(200);
    assert.ok(name.length <= 255 && utf8Bytes(name) > 255);
    const tensors = [randomTensor("ok", [2], 1), { ...randomTensor("x", [3], 4), name }];
    assert.throws(
      () => encodeFrame({ ...baseFrame, tensors }, 1 << 20),
      (e: unknown) => {
        assert.ok(e instanceof FrameHeaderError, String(e));
        assert.equal(e.field, "tensors.1.name");
        assert.match(e.message, /255 bytes/);
        return true;
      },
    );
  });

  // metaLength is 16 bits: 65535 bytes of meta JSON is the most a header holds.
  const metaBytes = (meta: Record<string, unknown>): number => utf8Bytes(JSON.stringify(meta));
  const metaOf = (total: number): Record<string, string | number> => {
    const meta = { samples: 37, note: "" };
    meta.note = "n".repeat(total - metaBytes(meta));
    return meta;
  };
  it("carries a meta of exactly 65535 bytes of JSON", () => {
    const meta = metaOf(65535);
    assert.equal(metaBytes(meta), 65535);
    const t = randomTensor("x", [3], 4);
    const back = decodeSingleMessage(encodeFrame({ ...baseFrame, meta, tensors: [t] }, 1 << 20).chunks[0]!);
    assert.deepEqual(back.header.meta, meta);
    assert.deepEqual(back.tensors[0]!.data, t.data);
  });

  it("refuses a meta of 65536 bytes naming the frame, its tensors, the largest key, the length and the limit", () => {
    const meta = metaOf(65536);
    const tensors = [randomTensor("hidden", [2, 3], 1), randomTensor("labels", [2], 2)];
    assert.throws(
      () => encodeFrame({ ...baseFrame, meta, tensors }, 1 << 20),
      (e: unknown) => {
        assert.ok(e instanceof FrameMetaTooLargeError, String(e));
        assert.ok(e instanceof FrameSizeError);
        assert.equal(e.code, "bad-size");
        assert.deepEqual(e.frame, { ...baseFrame });
        assert.equal(e.field, "meta.note");
        assert.equal(e.bytes, 65536);
        assert.equal(e.limit, 65535);
        assert.deepEqual(
          e.sizes.map((s) => s.key),
          ["note", "samples"],
        );
        assert.equal(e.sizes[0]!.bytes, utf8Bytes(`"note":${JSON.stringify(meta.note)},`));
        for (const part of ["job=job-a", "client=c0", "round=2", "step=7", "kind=activation"])
          assert.ok(e.message.includes(part), `${part} in: ${e.message.slice(0, 300)}`);
        assert.match(e.message, /meta is 65536 bytes of JSON, over the 65535/);
        assert.match(e.message, /tensors hidden, labels/);
        assert.match(e.message, /send bulk values as a tensor/);
        return true;
      },
    );
  });

  it("refuses to encode a job name that is not a NATS token", () => {
    assert.throws(() => encodeFrame({ ...baseFrame, job: "a.b" }, 1 << 20), FrameHeaderError);
  });
});

const payload = f32Bytes([1, 2, 3, 4, 5, 6]);
const shapeOf6 = (over: Partial<FrameHeader["tensors"][number]>): FrameHeader["tensors"] => [
  { name: "x", dtype: "float32", codec: "f32", shape: [2, 3], byteLength: 24, ...over },
];

/** Each case is a broken message and the error class (and field) its receiver must raise. */
const badFrames: {
  name: string;
  message: () => Uint8Array;
  error: new (...a: never[]) => DataPlaneError;
  field?: RegExp;
}[] = [
  { name: "a message shorter than a header", message: () => new Uint8Array(10), error: FrameHeaderError },
  {
    name: "wrong magic bytes",
    message: () => Uint8Array.from(rawFrame(headerFor(payload), payload), (b, i) => (i === 0 ? 0 : b)),
    error: FrameHeaderError,
  },
  {
    name: "an unknown frame kind",
    message: () => Uint8Array.from(rawFrame(headerFor(payload), payload), (b, i) => (i === 6 ? 99 : b)),
    error: FrameHeaderError,
    field: /field kind/,
  },
  {
    name: "a job name with a dot",
    message: () => rawFrame(headerFor(payload, { job: "a.b" }), payload),
    error: FrameHeaderError,
    field: /field job/,
  },
  {
    name: "a byteLength that disagrees with dtype and shape",
    message: () => rawFrame(headerFor(payload, { tensors: shapeOf6({ shape: [2, 2] }) }), payload),
    error: FrameSizeError,
    field: /tensors\[0\]/,
  },
  {
    name: "a payload shorter than declared",
    message: () =>
      rawFrame(headerFor(payload, { payloadLength: 24, tensors: shapeOf6({}) }), payload.subarray(0, 20)),
    error: FrameSizeError,
    field: /payloadLength/,
  },
  {
    name: "a codec that cannot carry the dtype",
    message: () =>
      rawFrame(
        headerFor(payload, { tensors: shapeOf6({ dtype: "int32", codec: "int8", byteLength: 14 }) }),
        payload,
      ),
    error: FrameDtypeError,
  },
  {
    name: "a flipped payload bit",
    message: () => {
      const m = rawFrame(headerFor(payload, { tensors: shapeOf6({}) }), payload);
      m[m.length - 1]! ^= 1;
      return m;
    },
    error: FrameChecksumError,
    field: /checksum/,
  },
  {
    name: "a NaN in a float tensor",
    message: () => {
      const p = f32Bytes([1, 2, NaN, 4, 5, 6]);
      return rawFrame(headerFor(p, { tensors: shapeOf6({}) }), p);
    },
    error: NonFiniteTensorError,
    field: /tensors\.x/,
  },
  {
    name: "an Infinity in an f16 tensor",
    message: () => {
      const p = Uint8Array.from([0, 0x3c, 0, 0x7c]); // 1.0, +Inf
      return rawFrame(
        headerFor(p, { tensors: [{ name: "x", dtype: "float32", codec: "f16", shape: [2], byteLength: 4 }] }),
        p,
      );
    },
    error: NonFiniteTensorError,
  },
];

badFrames.push(
  {
    name: "a chunk count above the payload's byte count",
    message: () => rawFrame(headerFor(payload, { chunkCount: 1000, tensors: shapeOf6({}) }), payload),
    error: FrameSizeError,
    field: /chunkCount/,
  },
  {
    name: "two tensors of the same name",
    message: () =>
      rawFrame(
        headerFor(payload, {
          tensors: [...shapeOf6({ shape: [3], byteLength: 12 }), ...shapeOf6({ shape: [3], byteLength: 12 })],
        }),
        payload,
      ),
    error: FrameHeaderError,
    field: /field tensors/,
  },
);

describe("frame validation", () => {
  for (const c of badFrames) {
    it(`rejects ${c.name} with ${c.error.name}, naming the frame`, () => {
      assert.throws(
        () => decodeSingleMessage(c.message()),
        (e: unknown) => {
          assert.ok(e instanceof c.error, `${(e as Error).name}: ${(e as Error).message}`);
          if (c.field !== undefined) assert.match(e.message, c.field);
          if (!(e instanceof FrameHeaderError) || c.field !== undefined) {
            assert.match(e.message, /frame job=\S+ client=c0 round=2 step=7 kind=/);
          }
          return true;
        },
      );
    });
  }

  const specCases = [
    {
      name: "a wrong shape",
      spec: { name: "x", dtype: "float32", shape: [null, 4] },
      error: FrameShapeError,
    },
    { name: "a wrong dtype", spec: { name: "x", dtype: "int64", shape: [null, 3] }, error: FrameDtypeError },
    {
      name: "a missing tensor",
      spec: { name: "y", dtype: "float32", shape: [2, 3] },
      error: FrameShapeError,
    },
  ] as const;
  for (const c of specCases) {
    it(`checkTensors rejects ${c.name} with ${c.error.name}`, () => {
      const frame = decodeSingleMessage(rawFrame(headerFor(payload, { tensors: shapeOf6({}) }), payload));
      assert.throws(() => checkTensors(frame, [c.spec]), c.error);
    });
  }

  it("checkTensors accepts free dimensions", () => {
    const frame = decodeSingleMessage(rawFrame(headerFor(payload, { tensors: shapeOf6({}) }), payload));
    checkTensors(frame, [{ name: "x", dtype: "float32", shape: [null, 3] }]);
    assert.deepEqual(frame.tensors[0]!.shape, [2, 3]);
  });
});

describe("reassembly limits", () => {
  const chunked = (transfer: number): ParsedChunk[] =>
    encodeFrame(
      { ...baseFrame, transfer, tensors: [randomTensor("x", [64, 64], transfer)] },
      4096,
    ).chunks.map(parseChunk);

  it("answers busy when too many transfers are in flight", () => {
    const r = new Reassembler({ maxInFlight: 2 });
    r.accept(chunked(1)[0]!);
    r.accept(chunked(2)[0]!);
    assert.throws(() => r.accept(chunked(3)[0]!), ResponderBusyError);
    assert.equal(r.inFlight, 2);
  });

  it("drops a transfer idle past the timeout, and a late chunk of it is incomplete", () => {
    const r = new Reassembler({ timeoutMs: 1000 });
    const chunks = chunked(4);
    r.accept(chunks[0]!, 0);
    assert.throws(() => r.accept(chunks[1]!, 5000), IncompleteTransferError);
    assert.equal(r.inFlight, 0);
    assert.equal(r.expired, 1);
  });

  it("refuses a payload above maxBytes before allocating it", () => {
    assert.throws(() => new Reassembler({ maxBytes: 1000 }).accept(chunked(5)[0]!), FrameSizeError);
  });

  it("refuses a chunk whose header differs from chunk 0", () => {
    const r = new Reassembler();
    const a = chunked(6);
    r.accept(a[0]!);
    const b = parseChunk(
      encodeFrame(
        { ...baseFrame, transfer: 6, meta: { x: 1 }, tensors: [randomTensor("x", [64, 64], 6)] },
        4096,
      ).chunks[1]!,
    );
    assert.throws(() => r.accept(b), FrameHeaderError);
  });
});
