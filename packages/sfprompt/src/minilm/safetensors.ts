// Reads the safetensors format (8-byte little-endian header length, a JSON header of
// name → {dtype, shape, data_offsets}, then raw little-endian data) into float32 tensors.
import { readFileSync } from "node:fs";
import { SafetensorsFormatError, SafetensorsTensorError } from "./errors.js";

/** A float32 tensor as read from the file (row-major, torch's layout). */
export interface FloatTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** One header entry: dtype as safetensors writes it ("F32", "F16", "BF16", "I64", ...). */
export interface SafetensorsEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte range inside the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

const ITEM_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The tensors of one safetensors file, decoded on demand. */
export class SafetensorsFile {
  private constructor(
    /** The file name, for error messages. */
    readonly file: string,
    private readonly bytes: Uint8Array,
    private readonly dataStart: number,
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  /** Reads and checks the framing of `path` (the data stays in memory, decoded per tensor). */
  static read(path: string): SafetensorsFile {
    return SafetensorsFile.parse(readFileSync(path), path);
  }

  /** Checks the framing of `bytes`; `file` names it in errors. */
  static parse(bytes: Uint8Array, file: string): SafetensorsFile {
    if (bytes.byteLength < 8)
      throw new SafetensorsFormatError(file, `${bytes.byteLength} bytes, fewer than 8`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getBigUint64(0, true);
    if (headerLength > BigInt(bytes.byteLength - 8))
      throw new SafetensorsFormatError(
        file,
        `header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after it`,
      );
    const dataStart = 8 + Number(headerLength);
    const raw = parseHeader(file, bytes.subarray(8, dataStart));
    const dataBytes = bytes.byteLength - dataStart;
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (name === "__metadata__") metadata = value as Record<string, string>;
      else entries.set(name, checkEntry(file, name, value, dataBytes));
    }
    return new SafetensorsFile(file, bytes, dataStart, entries, metadata);
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** A float tensor (F32, F16 or BF16 in the file) as float32; `shape` is checked when given. */
  float(name: string, shape?: readonly number[]): FloatTensor {
    const e = this.entries.get(name);
    if (e === undefined)
      throw new SafetensorsTensorError(
        this.file,
        name,
        `is missing (the file has ${this.entries.size} tensors, e.g. ${this.names().slice(0, 3).join(", ")})`,
      );
    if (shape !== undefined && (shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i])))
      throw new SafetensorsTensorError(
        this.file,
        name,
        `has shape [${e.shape.join(", ")}] where [${shape.join(", ")}] was expected`,
      );
    const src = this.bytes.subarray(this.dataStart + e.begin, this.dataStart + e.end);
    return { dims: [...e.shape], data: decodeFloats(this.file, name, e.dtype, src) };
  }
}

function parseHeader(file: string, bytes: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SafetensorsFormatError(file, "the header is not valid UTF-8 JSON", { cause });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new SafetensorsFormatError(file, "the header is not a JSON object");
  return parsed as Record<string, unknown>;
}

function checkEntry(file: string, name: string, value: unknown, dataBytes: number): SafetensorsEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const bad = (detail: string): SafetensorsTensorError => new SafetensorsTensorError(file, name, detail);
  if (typeof v !== "object" || v === null) throw bad("has a header entry that is not an object");
  const item = typeof v.dtype === "string" ? ITEM_BYTES[v.dtype] : undefined;
  if (item === undefined) throw bad(`has an unknown dtype ${JSON.stringify(v.dtype)}`);
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
    throw bad(`has an invalid shape ${JSON.stringify(shape)}`);
  const off = v.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && (o as number) >= 0))
    throw bad(`has invalid data_offsets ${JSON.stringify(off)}`);
  const [begin, end] = off as [number, number];
  if (begin > end || end > dataBytes)
    throw bad(`has data_offsets [${begin}, ${end}] outside the ${dataBytes} data bytes`);
  const count = (shape as number[]).reduce((a, d) => a * d, 1);
  if (end - begin !== count * item)
    throw bad(
      `has ${end - begin} bytes, but ${v.dtype as string} [${shape.join(", ")}] needs ${count * item}`,
    );
  return { dtype: v.dtype as string, shape: shape as number[], begin, end };
}

function decodeFloats(file: string, name: string, dtype: string, src: Uint8Array): Float32Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (dtype === "F32") {
    const out = new Float32Array(src.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (dtype === "F16") {
    const out = new Float32Array(src.byteLength / 2);
    for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    return out;
  }
  if (dtype === "BF16") {
    const out = new Float32Array(src.byteLength / 2);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(2 * i, true) << 16;
    return out;
  }
  throw new SafetensorsTensorError(
    file,
    name,
    `has dtype ${dtype}; only F32, F16 and BF16 are read as floats`,
  );
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
