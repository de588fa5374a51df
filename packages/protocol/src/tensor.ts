// Tensor types of the data plane: a named, shaped typed array plus the wire codec it travels in.
import { endianness } from "node:os";

export const DTYPES = ["float32", "int32", "int64"] as const;
/** Element type of a decoded tensor. */
export type DType = (typeof DTYPES)[number];

export const CODECS = ["f32", "f16", "bf16", "int8", "raw"] as const;
/**
 * Wire encoding. f32/f16/bf16/int8 apply to float32 tensors (int8 with one f32 scale per row, rows being
 * the last-dimension vectors); integer tensors travel as raw little-endian bytes.
 */
export type Codec = (typeof CODECS)[number];

export const FRAME_KINDS = ["activation", "gradient", "parameters", "control"] as const;
/** What a frame carries; traffic is counted per kind. */
export type FrameKind = (typeof FRAME_KINDS)[number];

export type TensorData = Float32Array | Int32Array | BigInt64Array;

/** A decoded tensor. */
export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** A tensor to send, with the codec to send it in (default: f32 for float32, raw otherwise). */
export interface OutgoingTensor extends Tensor {
  readonly codec?: Codec;
}

/** Codecs allowed per dtype. */
export const CODECS_FOR_DTYPE: Readonly<Record<DType, readonly Codec[]>> = {
  float32: ["f32", "f16", "bf16", "int8"],
  int32: ["raw"],
  int64: ["raw"],
};

export function defaultCodec(dtype: DType): Codec {
  return dtype === "float32" ? "f32" : "raw";
}

/** Number of elements of `shape` (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The dtype a typed array holds. */
export function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  return "int64";
}

/** Frames are little-endian and encoded through typed-array views; refuse to run where that is wrong. */
if (endianness() !== "LE") {
  throw new Error("@sfprompt/protocol needs a little-endian CPU (typed-array views are written as-is)");
}
