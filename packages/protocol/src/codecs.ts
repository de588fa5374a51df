// Encoding and decoding of one tensor's bytes in a frame payload, per codec.
import {
  CodecRangeError,
  FrameDtypeError,
  FrameSizeError,
  NonFiniteTensorError,
  type FrameRef,
} from "./errors.js";
import { decodeBf16, decodeF16, encodeHalfInto } from "./half.js";
import { decodeInt8Rows, encodeInt8RowsInto, int8ByteLength } from "./int8-rows.js";
import {
  CODECS_FOR_DTYPE,
  elementCount,
  type Codec,
  type DType,
  type Tensor,
  type TensorData,
} from "./tensor.js";

/** Bytes a tensor of `dtype`/`shape` takes on the wire in `codec`. */
export function encodedByteLength(dtype: DType, codec: Codec, shape: readonly number[]): number {
  const n = elementCount(shape);
  switch (codec) {
    case "f32":
      return n * 4;
    case "f16":
    case "bf16":
      return n * 2;
    case "int8":
      return int8ByteLength(n, shape.at(-1));
    case "raw":
      return n * (dtype === "int64" ? 8 : 4);
  }
}

/** bf16's largest finite value; a float32 above it may round to Infinity. */
const BF16_MAX = 3.3895313892515355e38;
/** The smallest normal float32: below it bf16 keeps fewer than its 8 significant bits. */
const F32_MIN_NORMAL = 2 ** -126;

/**
 * The codec `tensor` travels in when `asked` for it: `asked`, except int8 over rows of at most 4
 * elements. A float32 scale per row costs 4/L bytes per element on top of int8's one (5 for [N, 1]),
 * never fewer than bf16's 2; bf16 keeps each value within |x|/256 (under int8's max|row|/254) and
 * every receiver decodes it. Values bf16 cannot keep so (beyond its range, float32 subnormals, NaN,
 * Infinity) leave the tensor in int8, which carries or refuses them as it always did.
 */
export function wireCodec(tensor: Tensor, asked: Codec): Codec {
  if (asked !== "int8" || !(tensor.data instanceof Float32Array)) return asked;
  const rowLength = tensor.shape.at(-1) ?? 1;
  if (rowLength === 0 || rowLength > 4) return asked;
  for (const x of tensor.data) {
    const a = x < 0 ? -x : x;
    if (!(a <= BF16_MAX) || (a !== 0 && a < F32_MIN_NORMAL)) return asked;
  }
  return "bf16";
}

/** Throws FrameDtypeError unless `codec` can carry `dtype`. */
export function checkCodecFits(dtype: DType, codec: Codec, frame: FrameRef | undefined, field: string): void {
  if (!CODECS_FOR_DTYPE[dtype].includes(codec)) {
    throw new FrameDtypeError(
      `codec ${codec} cannot carry dtype ${dtype}; use one of ${CODECS_FOR_DTYPE[dtype].join(", ")}`,
      { frame, field },
    );
  }
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Writes `tensor` in `codec` into `out` at `offset`; returns the bytes written. */
export function encodeTensorInto(
  tensor: Tensor,
  codec: Codec,
  out: Uint8Array,
  offset: number,
  frame?: FrameRef,
): number {
  const field = `tensors.${tensor.name}`;
  checkCodecFits(tensor.dtype, codec, frame, field);
  const n = elementCount(tensor.shape);
  if (tensor.data.length !== n) {
    throw new FrameSizeError(
      `data has ${tensor.data.length} elements but shape [${tensor.shape.join(", ")}] needs ${n}`,
      { frame, field },
    );
  }
  if (codec === "f32" || codec === "raw") {
    out.set(bytesOf(tensor.data), offset);
  } else if (codec === "int8") {
    const bad = encodeInt8RowsInto(tensor.data as Float32Array, tensor.shape.at(-1), out, offset);
    if (bad >= 0) throw rangeError(tensor, bad, "int8 cannot carry NaN or Infinity", frame);
  } else {
    const bad = encodeHalfInto(tensor.data as Float32Array, out, offset, codec);
    const wider = codec === "f16" ? "bf16 or f32" : "f32";
    if (bad >= 0) throw rangeError(tensor, bad, `out of ${codec} range (use ${wider})`, frame);
  }
  return encodedByteLength(tensor.dtype, codec, tensor.shape);
}

function rangeError(
  tensor: Tensor,
  index: number,
  why: string,
  frame: FrameRef | undefined,
): CodecRangeError {
  const value = (tensor.data as Float32Array)[index];
  return new CodecRangeError(`element ${index} = ${value} is ${why}`, {
    frame,
    field: `tensors.${tensor.name}`,
  });
}

/** Decodes exactly the bytes of one tensor into a freshly owned typed array. */
export function decodeTensorBytes(
  bytes: Uint8Array,
  dtype: DType,
  codec: Codec,
  shape: readonly number[],
): TensorData {
  const n = elementCount(shape);
  switch (codec) {
    case "f16":
      return decodeF16(bytes, n);
    case "bf16":
      return decodeBf16(bytes, n);
    case "int8":
      return decodeInt8Rows(bytes, n, shape.at(-1));
    case "f32":
    case "raw": {
      const out =
        dtype === "float32"
          ? new Float32Array(n)
          : dtype === "int32"
            ? new Int32Array(n)
            : new BigInt64Array(n);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
  }
}

/** Throws NonFiniteTensorError naming the first NaN/±Inf element of a float tensor. */
export function checkFinite(tensor: Tensor, frame: FrameRef | undefined): void {
  if (!(tensor.data instanceof Float32Array)) return;
  const data = tensor.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      throw new NonFiniteTensorError(`element ${i} is ${v}; the sender must not send NaN or Infinity`, {
        frame,
        field: `tensors.${tensor.name}`,
      });
    }
  }
}
