// Fixture builders for protocol tests: deterministic tensors and hand-made (possibly broken) frames.
import {
  crc32,
  encodeHeader,
  FRAME_VERSION,
  type FrameHeader,
  type OutgoingTensor,
} from "@sfprompt/protocol";

/** A float32 tensor filled by a seeded generator (values in [-scale, scale]). */
export function randomTensor(name: string, shape: number[], seed: number, scale = 1): OutgoingTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = (((s >>> 0) / 0xffffffff) * 2 - 1) * scale;
  }
  return { name, dtype: "float32", shape, data };
}

export const baseFrame = { kind: "activation", job: "job-a", client: "c0", round: 2, step: 7 } as const;

/** A header with sensible defaults for a single-chunk frame over `payload`. */
export function headerFor(payload: Uint8Array, over: Partial<FrameHeader> = {}): FrameHeader {
  return {
    version: FRAME_VERSION,
    type: "data",
    ...baseFrame,
    transfer: 1,
    chunkIndex: 0,
    chunkCount: 1,
    chunkOffset: 0,
    payloadLength: payload.length,
    checksum: crc32(payload),
    meta: {},
    tensors: [
      { name: "x", dtype: "float32", codec: "f32", shape: [payload.length / 4], byteLength: payload.length },
    ],
    ...over,
  };
}

/** header bytes + payload, without any validation: for building broken frames. */
export function rawFrame(header: FrameHeader, payload: Uint8Array): Uint8Array {
  const h = encodeHeader(header);
  const out = new Uint8Array(h.length + payload.length);
  out.set(h, 0);
  out.set(payload, h.length);
  return out;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
