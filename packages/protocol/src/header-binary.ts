// The binary layout of a frame header (little-endian); see docs/adr for the rationale.
//  0 "SFPF" | 4 u8 version | 5 u8 type | 6 u8 kind | 7 u8 flags | 8 u32 headerLength | 12 u32 round
// 16 u32 step | 20 u32 transfer | 24 u32 chunkIndex | 28 u32 chunkCount | 32 u32 chunkOffset
// 36 u32 payloadLength | 40 u32 checksum | 44 u16 tensorCount | 46 u16 metaLength
// 48 u8+job | u8+client | meta JSON | per tensor: u8+name, u8 dtype, u8 codec, u8 rank, rank*u32, u32 bytes
import { FrameHeaderError, FrameMetaTooLargeError, type MetaKeySize } from "./errors.js";
import { FRAME_TYPES, FrameHeaderSchema, type FrameHeader } from "./header-schema.js";
import { CODECS, DTYPES, FRAME_KINDS } from "./tensor.js";

export const MAGIC = [0x53, 0x46, 0x50, 0x46] as const; // "SFPF"
export const FIXED_HEADER_BYTES = 48;
/** Byte ranges that differ between the chunks of one transfer: chunkIndex and chunkOffset. */
export const CHUNK_INDEX_AT = 24;
export const CHUNK_OFFSET_AT = 32;
export const CHECKSUM_AT = 40;
/** metaLength is a u16: a header holds at most this many bytes of meta JSON. */
export const META_LIMIT = 0xffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Serialises a header; `headerLength` is computed. */
export function encodeHeader(h: FrameHeader): Uint8Array {
  const job = encoder.encode(h.job);
  const client = encoder.encode(h.client);
  const meta = Object.keys(h.meta).length === 0 ? new Uint8Array(0) : encoder.encode(JSON.stringify(h.meta));
  const names = h.tensors.map((t) => encoder.encode(t.name));
  let length = FIXED_HEADER_BYTES + 2 + job.length + client.length + meta.length;
  h.tensors.forEach((t, i) => (length += 1 + names[i]!.length + 3 + 4 * t.shape.length + 4));
  if (meta.length > META_LIMIT) throw metaTooLarge(h, meta.length);
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = h.version;
  out[5] = FRAME_TYPES.indexOf(h.type);
  out[6] = FRAME_KINDS.indexOf(h.kind);
  const fixed = [length, h.round, h.step, h.transfer, h.chunkIndex, h.chunkCount, h.chunkOffset];
  fixed.push(h.payloadLength, h.checksum);
  fixed.forEach((x, i) => v.setUint32(8 + 4 * i, x, true));
  v.setUint16(44, h.tensors.length, true);
  v.setUint16(46, meta.length, true);
  let o = FIXED_HEADER_BYTES;
  const putString = (s: Uint8Array): void => {
    out[o++] = s.length;
    out.set(s, o);
    o += s.length;
  };
  putString(job);
  putString(client);
  out.set(meta, o);
  o += meta.length;
  h.tensors.forEach((t, i) => {
    putString(names[i]!);
    out[o++] = DTYPES.indexOf(t.dtype);
    out[o++] = CODECS.indexOf(t.codec);
    out[o++] = t.shape.length;
    for (const d of t.shape) {
      v.setUint32(o, d, true);
      o += 4;
    }
    v.setUint32(o, t.byteLength, true);
    o += 4;
  });
  return out;
}

/**
 * The error for a meta too large to encode: names the frame (job, client, round, step, kind, its
 * tensors), the meta's length, the limit and the keys that take the most.
 */
function metaTooLarge(h: FrameHeader, bytes: number): FrameMetaTooLargeError {
  const sizes: MetaKeySize[] = Object.entries(h.meta)
    .map(([key, value]) => ({
      key,
      bytes: encoder.encode(`${JSON.stringify(key)}:${JSON.stringify(value)},`).length,
    }))
    .sort((a, b) => b.bytes - a.bytes);
  const largest = sizes
    .slice(0, 3)
    .map((s) => `${s.key} (${s.bytes} bytes)`)
    .join(", ");
  const names = h.tensors.slice(0, 8).map((t) => t.name);
  if (h.tensors.length > 8) names.push(`and ${h.tensors.length - 8} more`);
  const tensors = h.tensors.length === 0 ? "no tensors" : `tensors ${names.join(", ")}`;
  return new FrameMetaTooLargeError(
    `meta is ${bytes} bytes of JSON, over the ${META_LIMIT} a frame header holds (metaLength is 16 bits); ` +
      `largest keys: ${largest}; the frame (type ${h.type}) carries ${tensors}. ` +
      "Meta is for small scalars: send bulk values as a tensor of the frame, or shorten them",
    {
      frame: { job: h.job, client: h.client, round: h.round, step: h.step, kind: h.kind },
      field: sizes.length === 0 ? "meta" : `meta.${sizes[0]!.key}`,
      bytes,
      limit: META_LIMIT,
      sizes,
    },
  );
}

/** A bounds-checked reader over the header bytes. */
class Reader {
  o = FIXED_HEADER_BYTES;
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly end: number,
  ) {}
  need(n: number, what: string): void {
    if (this.o + n > this.end)
      throw new FrameHeaderError(`header truncated while reading ${what} at byte ${this.o}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.o++]!;
  }
  u32(what: string): number {
    this.need(4, what);
    const x = this.view.getUint32(this.o, true);
    this.o += 4;
    return x;
  }
  text(n: number, what: string): string {
    this.need(n, what);
    const s = this.bytes.subarray(this.o, this.o + n);
    this.o += n;
    try {
      return decoder.decode(s);
    } catch (cause) {
      throw new FrameHeaderError(`${what} is not valid UTF-8`, { cause });
    }
  }
}

function enumAt<T extends string>(values: readonly T[], code: number): T | string {
  return values[code] ?? `#${code}`;
}

/** Parses and validates the header at the start of `bytes`; returns it with its length in bytes. */
export function decodeHeader(bytes: Uint8Array): { header: FrameHeader; length: number } {
  if (bytes.length < FIXED_HEADER_BYTES) {
    throw new FrameHeaderError(
      `message has ${bytes.length} bytes, fewer than a frame header's ${FIXED_HEADER_BYTES}`,
    );
  }
  if (MAGIC.some((b, i) => bytes[i] !== b))
    throw new FrameHeaderError("not a frame: magic bytes are not SFPF");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = v.getUint32(8, true);
  if (length < FIXED_HEADER_BYTES || length > bytes.length) {
    throw new FrameHeaderError(`headerLength ${length} is outside the message (${bytes.length} bytes)`);
  }
  const r = new Reader(bytes, v, length);
  const u32At = (i: number): number => v.getUint32(12 + 4 * i, true);
  const job = r.text(r.u8("job length"), "job");
  const client = r.text(r.u8("client length"), "client");
  const metaText = r.text(v.getUint16(46, true), "meta");
  const tensors = Array.from({ length: v.getUint16(44, true) }, (_, i) => readTensorEntry(r, i));
  const raw = {
    version: bytes[4],
    type: enumAt(FRAME_TYPES, bytes[5]!),
    kind: enumAt(FRAME_KINDS, bytes[6]!),
    job,
    client,
    round: u32At(0),
    step: u32At(1),
    transfer: u32At(2),
    chunkIndex: u32At(3),
    chunkCount: u32At(4),
    chunkOffset: u32At(5),
    payloadLength: u32At(6),
    checksum: u32At(7),
    meta: parseMeta(metaText),
    tensors,
  };
  return { header: validateHeader(raw), length };
}

function readTensorEntry(r: Reader, i: number): Record<string, unknown> {
  const name = r.text(r.u8(`tensors[${i}].name length`), `tensors[${i}].name`);
  const dtype = enumAt(DTYPES, r.u8(`tensors[${i}].dtype`));
  const codec = enumAt(CODECS, r.u8(`tensors[${i}].codec`));
  const rank = r.u8(`tensors[${i}].rank`);
  const shape = Array.from({ length: rank }, (_, d) => r.u32(`tensors[${i}].shape[${d}]`));
  return { name, dtype, codec, shape, byteLength: r.u32(`tensors[${i}].byteLength`) };
}

function parseMeta(text: string): unknown {
  if (text.length === 0) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new FrameHeaderError("meta is not valid JSON", { cause, field: "meta" });
  }
}

function validateHeader(raw: Record<string, unknown>): FrameHeader {
  const parsed = FrameHeaderSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const frame = {
    job: typeof raw.job === "string" ? raw.job : undefined,
    client: typeof raw.client === "string" ? raw.client : undefined,
    round: raw.round as number,
    step: raw.step as number,
    kind: String(raw.kind),
  };
  throw new FrameHeaderError(`${issue.message}; the sender must follow frame version 1`, {
    frame,
    field: issue.path.join(".") || "header",
    cause: parsed.error,
  });
}
