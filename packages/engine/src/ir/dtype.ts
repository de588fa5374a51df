// Maps between ONNX TensorProto.DataType codes, our dtype names and typed-array constructors.
import { TensorFormatError } from "../errors.js";
import type { DType, Tensor, TensorValues } from "./types.js";

const CODE_TO_DTYPE: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  16: "bfloat16",
};

const DTYPE_TO_CODE: Record<Exclude<DType, "other">, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
};

/** Our dtype for an ONNX data_type code ("other" for types we carry as raw bytes). */
export function dtypeFromCode(code: number): DType {
  return CODE_TO_DTYPE[code] ?? "other";
}

/** The ONNX data_type code of a dtype. */
export function codeFromDtype(dtype: DType, onnxDataType?: number): number {
  if (dtype === "other") {
    if (onnxDataType === undefined)
      throw new TensorFormatError('dtype "other" needs its ONNX data_type code');
    return onnxDataType;
  }
  return DTYPE_TO_CODE[dtype];
}

/** Bytes per element, or 0 for variable-size (string) and sub-byte types. */
export function itemSize(dtype: DType): number {
  switch (dtype) {
    case "float64":
    case "int64":
    case "uint64":
      return 8;
    case "float32":
    case "int32":
    case "uint32":
      return 4;
    case "float16":
    case "bfloat16":
    case "int16":
    case "uint16":
      return 2;
    case "int8":
    case "uint8":
    case "bool":
    case "other":
      return 1;
    case "string":
      return 0;
  }
}

/** True for dtypes a gradient can be taken with respect to. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16" || dtype === "bfloat16";
}

/** An empty typed array of the dtype's storage type. */
export function allocValues(dtype: DType, length: number): TensorValues {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int8":
      return new Int8Array(length);
    case "uint8":
    case "bool":
    case "other":
      return new Uint8Array(length);
    case "int16":
      return new Int16Array(length);
    case "uint16":
    case "float16":
    case "bfloat16":
      return new Uint16Array(length);
    case "int32":
      return new Int32Array(length);
    case "uint32":
      return new Uint32Array(length);
    case "int64":
      return new BigInt64Array(length);
    case "uint64":
      return new BigUint64Array(length);
    case "string":
      return new Array<string>(length).fill("");
  }
}

/** Views little-endian bytes as the dtype's typed array (copied, so alignment never matters). */
export function valuesFromBytes(dtype: DType, bytes: Uint8Array): TensorValues {
  if (dtype === "string") throw new TensorFormatError("string tensors have no raw byte form");
  const size = itemSize(dtype);
  if (bytes.byteLength % size !== 0) {
    throw new TensorFormatError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  const out = allocValues(dtype, bytes.byteLength / size) as Exclude<TensorValues, string[]>;
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

/** The little-endian bytes of a typed array (a view, not a copy). */
export function bytesOfValues(values: TensorValues): Uint8Array {
  if (Array.isArray(values)) throw new TensorFormatError("string tensors have no raw byte form");
  const v = values as Exclude<TensorValues, string[]>;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Number of elements of a static shape. */
export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Builds a tensor, checking that the payload length matches the shape. */
export function makeTensor(dtype: DType, dims: readonly number[], data: TensorValues): Tensor {
  const n = numel(dims);
  if (dtype !== "other" && data.length !== n) {
    throw new TensorFormatError(`tensor of shape [${dims.join(",")}] needs ${n} values, got ${data.length}`);
  }
  return { dtype, dims: [...dims], data };
}
