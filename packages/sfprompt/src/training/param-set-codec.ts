// Compact, versioned binary form of a ParamSet, for checkpoints, optimizer state and uploads.
// Layout (little-endian): "SFPS" u16 version u16 flags u32 count u32 metaLen | per tensor: u16 nameLen,
// name (UTF-8), u8 dtype, u8 rank, u32 dims[rank] | meta JSON | zero pad to 4 | float32 payload | u32 crc32.
import { crc32 } from "node:zlib";
import { ParamSetCodecError, ParamSetMismatchError } from "./errors.js";
import { assertSameLayout, paramTensor, shapeSize, type ParamSet } from "./param-set.js";

const MAGIC = [0x53, 0x46, 0x50, 0x53]; // "SFPS"
/** Current format version; decoders reject any other. */
export const PARAM_SET_FORMAT_VERSION = 1;
const DTYPE_FLOAT32 = 1;
const FIXED_HEADER = 16;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Entry {
  name: Uint8Array;
  shape: readonly number[];
  data: Float32Array;
}

function headerBytes(entries: readonly Entry[]): number {
  return entries.reduce((n, e) => n + 2 + e.name.length + 2 + 4 * e.shape.length, 0);
}

/** Serialises a set (and optional JSON-able metadata, e.g. round or optimizer step) to bytes. */
export function encodeParamSet(params: ParamSet, meta?: unknown): Uint8Array {
  const enc = new TextEncoder();
  const entries: Entry[] = [...params].map(([name, t]) => ({
    name: enc.encode(name),
    shape: t.shape,
    data: paramTensor(t.data, t.shape, name).data,
  }));
  for (const e of entries) {
    if (e.name.length > 0xffff || e.shape.length > 0xff) {
      throw new ParamSetCodecError("a parameter name is over 65535 bytes or its rank over 255");
    }
  }
  const metaBytes = meta === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(meta));
  const unpadded = FIXED_HEADER + headerBytes(entries) + metaBytes.length;
  const payloadOff = Math.ceil(unpadded / 4) * 4;
  const payloadLen = entries.reduce((n, e) => n + 4 * e.data.length, 0);
  const out = new Uint8Array(payloadOff + payloadLen + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint16(4, PARAM_SET_FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(8, entries.length, true);
  view.setUint32(12, metaBytes.length, true);
  let off = FIXED_HEADER;
  for (const e of entries) {
    view.setUint16(off, e.name.length, true);
    out.set(e.name, off + 2);
    off += 2 + e.name.length;
    view.setUint8(off, DTYPE_FLOAT32);
    view.setUint8(off + 1, e.shape.length);
    off += 2;
    for (const d of e.shape) {
      view.setUint32(off, d, true);
      off += 4;
    }
  }
  out.set(metaBytes, off);
  off = payloadOff;
  for (const e of entries) {
    writeFloats(view, out, off, e.data);
    off += 4 * e.data.length;
  }
  view.setUint32(off, crc32(out.subarray(0, off)), true);
  return out;
}

function writeFloats(view: DataView, out: Uint8Array, off: number, data: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), off);
    return;
  }
  for (let i = 0; i < data.length; i++) view.setFloat32(off + 4 * i, data[i] as number, true);
}

function readFloats(bytes: Uint8Array, off: number, n: number): Float32Array {
  const start = bytes.byteOffset + off;
  if (LITTLE_ENDIAN_HOST) return new Float32Array(bytes.buffer.slice(start, start + 4 * n));
  const view = new DataView(bytes.buffer, start, 4 * n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Options for decoding: `expect` makes any difference in names or shapes an error. */
export interface DecodeParamSetOptions {
  /** A set (values ignored) whose names, order and shapes the bytes must match. */
  readonly expect?: ParamSet;
  /** Names the source in error messages (e.g. "checkpoint round 3", "upload from client-2"). */
  readonly source?: string;
}

/** A decoded set with the metadata that was stored alongside it. */
export interface DecodedParamSet {
  readonly params: ParamSet;
  readonly meta: unknown;
}

class Reader {
  off = FIXED_HEADER;
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly end: number,
    readonly source: string,
  ) {}
  need(n: number, what: string): void {
    if (this.off + n > this.end) {
      throw new ParamSetCodecError(
        `${this.source} is truncated while reading ${what}: re-create or re-send it`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.off++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.off, true);
    this.off += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.off, true);
    this.off += 4;
    return v;
  }
}

function checkFrame(bytes: Uint8Array, source: string): DataView {
  if (bytes.length < FIXED_HEADER + 4) {
    throw new ParamSetCodecError(`${source} is ${bytes.length} bytes, too short to be a parameter set`);
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ParamSetCodecError(`${source} does not start with "SFPS": it is not a parameter set`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== PARAM_SET_FORMAT_VERSION) {
    throw new ParamSetCodecError(
      `${source} has format version ${version}; this build reads version ${PARAM_SET_FORMAT_VERSION}`,
    );
  }
  const end = bytes.length - 4;
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes.subarray(0, end));
  if (stored !== actual) {
    throw new ParamSetCodecError(
      `${source} fails its checksum (stored ${stored}, computed ${actual}): corrupt`,
    );
  }
  return view;
}

function readHeader(r: Reader, count: number): Array<{ name: string; shape: number[] }> {
  const dec = new TextDecoder("utf-8", { fatal: true });
  const out: Array<{ name: string; shape: number[] }> = [];
  for (let i = 0; i < count; i++) {
    const len = r.u16(`name length of tensor ${i}`);
    r.need(len, `name of tensor ${i}`);
    const name = dec.decode(r.bytes.subarray(r.off, r.off + len));
    r.off += len;
    const dtype = r.u8(`dtype of '${name}'`);
    if (dtype !== DTYPE_FLOAT32) {
      throw new ParamSetCodecError(`${r.source}: tensor '${name}' has dtype code ${dtype}; only float32 (1)`);
    }
    const rank = r.u8(`rank of '${name}'`);
    const shape: number[] = [];
    for (let k = 0; k < rank; k++) shape.push(r.u32(`shape of '${name}'`));
    out.push({ name, shape });
  }
  return out;
}

/** Decodes bytes from encodeParamSet, with the stored metadata (undefined when none). */
export function decodeParamSetWithMeta(bytes: Uint8Array, opts: DecodeParamSetOptions = {}): DecodedParamSet {
  const source = opts.source ?? "parameter set";
  const view = checkFrame(bytes, source);
  const r = new Reader(bytes, view, bytes.length - 4, source);
  const count = view.getUint32(8, true);
  const metaLen = view.getUint32(12, true);
  const layout = readHeader(r, count);
  r.need(metaLen, "metadata");
  const metaText = new TextDecoder().decode(bytes.subarray(r.off, r.off + metaLen));
  r.off = Math.ceil((r.off + metaLen) / 4) * 4;
  const params: ParamSet = new Map();
  for (const { name, shape } of layout) {
    const n = shapeSize(shape, `stored shape of '${name}'`);
    r.need(4 * n, `values of '${name}'`);
    if (params.has(name)) throw new ParamSetCodecError(`${source} holds parameter '${name}' twice`);
    params.set(name, { data: readFloats(bytes, r.off, n), shape });
    r.off += 4 * n;
  }
  if (r.off !== r.end) {
    throw new ParamSetCodecError(`${source} has ${r.end - r.off} unexpected trailing bytes`);
  }
  if (opts.expect) checkExpectedLayout(opts.expect, params, source);
  return { params, meta: metaLen === 0 ? undefined : parseMeta(metaText, source) };
}

function parseMeta(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ParamSetCodecError(`${source} has metadata that is not valid JSON`, { cause: err });
  }
}

/**
 * Throws ParamSetMismatchError when `got` (decoded from `source`) does not have `expect`'s layout:
 * what `expect` in decodeParamSetWithMeta checks, for a caller that reads the metadata first.
 */
export function checkExpectedLayout(expect: ParamSet, got: ParamSet, source: string): void {
  try {
    assertSameLayout(expect, got, "the expected layout", source);
  } catch (err) {
    if (err instanceof ParamSetMismatchError) {
      throw new ParamSetMismatchError(
        `${err.message}: it was saved for a different model or prompt count`,
        err.param,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** Decodes bytes from encodeParamSet, dropping metadata. */
export function decodeParamSet(bytes: Uint8Array, opts: DecodeParamSetOptions = {}): ParamSet {
  return decodeParamSetWithMeta(bytes, opts).params;
}
