// Small constructors for constant tensors (tests, builders, gradient rules).
import { makeTensor } from "./dtype.js";
import type { DType, Tensor } from "./types.js";

type Num = number | bigint;

/** A float32 tensor of the given shape. */
export function f32(dims: readonly number[], values: ArrayLike<number>): Tensor {
  return makeTensor("float32", dims, Float32Array.from(values));
}

/** A float64 tensor of the given shape. */
export function f64(dims: readonly number[], values: ArrayLike<number>): Tensor {
  return makeTensor("float64", dims, Float64Array.from(values));
}

/** An int64 tensor of the given shape. */
export function i64(dims: readonly number[], values: ArrayLike<Num>): Tensor {
  return makeTensor("int64", dims, BigInt64Array.from(Array.from(values, (v) => BigInt(v))));
}

/** A 1-D int64 tensor (shapes, axes, indices). */
export function i64s(values: readonly Num[]): Tensor {
  return i64([values.length], values);
}

/** A scalar of a float or int dtype. */
export function scalar(dtype: DType, value: number, dims: readonly number[] = []): Tensor {
  switch (dtype) {
    case "float64":
      return f64(dims, [value]);
    case "int64":
      return i64(dims, [value]);
    case "int32":
      return makeTensor("int32", dims, Int32Array.of(value));
    case "bool":
      return makeTensor("bool", dims, Uint8Array.of(value ? 1 : 0));
    default:
      return f32(dims, [value]);
  }
}

/** Reads a tensor's values as JS numbers (int64 converted). */
export function toNumbers(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
