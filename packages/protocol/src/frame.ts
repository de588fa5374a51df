// Tensor frames: encoding tensors into header + payload chunks, and validating and decoding them.
import {
  checkCodecFits,
  checkFinite,
  decodeTensorBytes,
  encodeTensorInto,
  encodedByteLength,
  wireCodec,
} from "./codecs.js";
import { crc32 } from "./crc32.js";
import { FrameChecksumError, FrameHeaderError, FrameSizeError, type FrameRef } from "./errors.js";
import { CHECKSUM_AT, CHUNK_OFFSET_AT, CHUNK_INDEX_AT, decodeHeader, encodeHeader } from "./header-binary.js";
import {
  FRAME_VERSION,
  FrameHeaderSchema,
  type FrameHeader,
  type FrameMeta,
  type FrameType,
} from "./header-schema.js";
import { defaultCodec, type FrameKind, type OutgoingTensor, type Tensor } from "./tensor.js";

/** What a sender says about a frame; the rest of the header is computed. */
export interface FrameInit {
  readonly type?: FrameType;
  readonly kind: FrameKind;
  readonly job: string;
  readonly client: string;
  readonly round: number;
  readonly step: number;
  /** Identifies one transfer; retries reuse it. Random when omitted. */
  readonly transfer?: number;
  readonly meta?: FrameMeta;
  readonly tensors?: readonly OutgoingTensor[];
}

/** An encoded frame: its header (as chunk 0 says it) and the messages to publish, in order. */
export interface EncodedFrame {
  readonly header: FrameHeader;
  readonly chunks: readonly Uint8Array[];
}

/** A received message split into its validated header and its slice of the payload. */
export interface ParsedChunk {
  readonly header: FrameHeader;
  readonly headerBytes: Uint8Array;
  readonly body: Uint8Array;
}

/** A complete, validated frame. */
export interface DecodedFrame {
  readonly header: FrameHeader;
  readonly tensors: readonly Tensor[];
}

export function frameRef(h: Pick<FrameHeader, "job" | "client" | "round" | "step" | "kind">): FrameRef {
  return { job: h.job, client: h.client, round: h.round, step: h.step, kind: h.kind };
}

export function randomTransferId(): number {
  return Math.floor(Math.random() * 0x100000000);
}

/** Encodes `init` into messages of at most `maxPayload` bytes each (header repeated per chunk). */
export function encodeFrame(init: FrameInit, maxPayload: number): EncodedFrame {
  const tensors = init.tensors ?? [];
  const entries = tensors.map((t) => {
    const codec = wireCodec(t, t.codec ?? defaultCodec(t.dtype));
    return {
      name: t.name,
      dtype: t.dtype,
      codec,
      shape: [...t.shape],
      byteLength: encodedByteLength(t.dtype, codec, t.shape),
    };
  });
  const payloadLength = entries.reduce((n, e) => n + e.byteLength, 0);
  const header = validateInit({
    version: FRAME_VERSION,
    type: init.type ?? "data",
    kind: init.kind,
    job: init.job,
    client: init.client,
    round: init.round,
    step: init.step,
    transfer: init.transfer ?? randomTransferId(),
    chunkIndex: 0,
    chunkCount: 1,
    chunkOffset: 0,
    payloadLength,
    checksum: 0,
    meta: init.meta ?? {},
    tensors: entries,
  });
  const ref = frameRef(header);
  const probe = encodeHeader(header);
  const capacity = maxPayload - probe.length;
  if (capacity <= 0) {
    throw new FrameSizeError(`header is ${probe.length} bytes, more than max_payload ${maxPayload}`, {
      frame: ref,
    });
  }
  const chunkCount = Math.max(1, Math.ceil(payloadLength / capacity));
  if (chunkCount === 1) {
    const { chunk, checksum } = encodeSingle(header, probe, tensors, ref);
    return { header: { ...header, checksum }, chunks: [chunk] };
  }
  const payload = new Uint8Array(payloadLength);
  writeTensors(tensors, entries, payload, 0, ref);
  const full = { ...header, chunkCount, checksum: crc32(payload) };
  const headerBytes = encodeHeader(full);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < chunkCount; i++) {
    const body = payload.subarray(i * capacity, Math.min(payloadLength, (i + 1) * capacity));
    const chunk = new Uint8Array(headerBytes.length + body.length);
    chunk.set(headerBytes, 0);
    const v = new DataView(chunk.buffer);
    v.setUint32(CHUNK_INDEX_AT, i, true);
    v.setUint32(CHUNK_OFFSET_AT, i * capacity, true);
    chunk.set(body, headerBytes.length);
    chunks.push(chunk);
  }
  return { header: full, chunks };
}

/** One message holding header and payload: tensors are encoded straight into it, then the CRC patched. */
function encodeSingle(
  header: FrameHeader,
  headerBytes: Uint8Array,
  tensors: readonly OutgoingTensor[],
  ref: FrameRef,
): { chunk: Uint8Array; checksum: number } {
  const out = new Uint8Array(headerBytes.length + header.payloadLength);
  out.set(headerBytes, 0);
  writeTensors(tensors, header.tensors, out, headerBytes.length, ref);
  const checksum = crc32(out.subarray(headerBytes.length));
  new DataView(out.buffer).setUint32(CHECKSUM_AT, checksum, true);
  return { chunk: out, checksum };
}

function validateInit(raw: Record<string, unknown>): FrameHeader {
  const parsed = FrameHeaderSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new FrameHeaderError(`cannot encode: ${issue.message}`, {
    frame: frameRef(raw as FrameHeader),
    field: issue.path.join(".") || "header",
    cause: parsed.error,
  });
}

function writeTensors(
  tensors: readonly OutgoingTensor[],
  entries: FrameHeader["tensors"],
  out: Uint8Array,
  offset: number,
  ref: FrameRef,
): void {
  let o = offset;
  tensors.forEach((t, i) => (o += encodeTensorInto(t, entries[i]!.codec, out, o, ref)));
}

/** Parses one message: header validated with zod, table checked against dtype/shape/codec sizes. */
export function parseChunk(message: Uint8Array): ParsedChunk {
  const { header, length } = decodeHeader(message);
  const ref = frameRef(header);
  const body = message.subarray(length);
  let total = 0;
  header.tensors.forEach((t, i) => {
    const field = `tensors[${i}] (${t.name})`;
    checkCodecFits(t.dtype, t.codec, ref, field);
    const expected = encodedByteLength(t.dtype, t.codec, t.shape);
    if (t.byteLength !== expected) {
      throw new FrameSizeError(
        `declares ${t.byteLength} bytes but ${t.dtype} [${t.shape.join(", ")}] in ${t.codec} takes ${expected}`,
        { frame: ref, field },
      );
    }
    total += t.byteLength;
  });
  if (total !== header.payloadLength) {
    throw new FrameSizeError(`tensors take ${total} bytes but payloadLength says ${header.payloadLength}`, {
      frame: ref,
      field: "payloadLength",
    });
  }
  if (header.chunkCount > Math.max(1, header.payloadLength)) {
    throw new FrameSizeError(`${header.chunkCount} chunks cannot carry ${header.payloadLength} bytes`, {
      frame: ref,
      field: "chunkCount",
    });
  }
  if (header.chunkOffset + body.length > header.payloadLength) {
    throw new FrameSizeError(
      `chunk ${header.chunkIndex} carries ${body.length} bytes at offset ${header.chunkOffset}, past payloadLength ${header.payloadLength}`,
      { frame: ref, field: "chunkOffset" },
    );
  }
  if (header.chunkCount === 1 && body.length !== header.payloadLength) {
    throw new FrameSizeError(
      `payload has ${body.length} bytes but the header declares ${header.payloadLength}`,
      {
        frame: ref,
        field: "payloadLength",
      },
    );
  }
  return { header, headerBytes: message.subarray(0, length), body };
}

/** Verifies the checksum and decodes every tensor (checking floats are finite) of a whole payload. */
export function decodeFrame(header: FrameHeader, payload: Uint8Array): DecodedFrame {
  const ref = frameRef(header);
  if (payload.length !== header.payloadLength) {
    throw new FrameSizeError(
      `payload has ${payload.length} bytes but the header declares ${header.payloadLength}`,
      {
        frame: ref,
        field: "payloadLength",
      },
    );
  }
  const actual = crc32(payload);
  if (actual !== header.checksum) {
    throw new FrameChecksumError(
      `CRC32 of the payload is ${hex(actual)} but the header says ${hex(header.checksum)}; the payload was corrupted`,
      { frame: ref, field: "checksum" },
    );
  }
  let o = 0;
  const tensors = header.tensors.map((t) => {
    const data = decodeTensorBytes(payload.subarray(o, o + t.byteLength), t.dtype, t.codec, t.shape);
    o += t.byteLength;
    const tensor: Tensor = { name: t.name, dtype: t.dtype, shape: t.shape, data };
    checkFinite(tensor, ref);
    return tensor;
  });
  return { header, tensors };
}

/** Parses and decodes a message that holds a whole frame (one chunk). */
export function decodeSingleMessage(message: Uint8Array): DecodedFrame {
  const chunk = parseChunk(message);
  if (chunk.header.chunkCount !== 1) {
    throw new FrameHeaderError(`frame has ${chunk.header.chunkCount} chunks; reassemble it first`, {
      frame: frameRef(chunk.header),
      field: "chunkCount",
    });
  }
  return decodeFrame(chunk.header, chunk.body);
}

function hex(x: number): string {
  return `0x${x.toString(16).padStart(8, "0")}`;
}
