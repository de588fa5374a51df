// Seeded initial values of the fresh trainable parameters (prompt tokens, a new classifier): the same
// seed gives the same bundle on every machine. Bounds follow xavier-uniform as in VPT and PyTorch.
import { f32, f64 } from "../ir/tensor.js";
import type { DType, Tensor } from "../ir/types.js";

/** mulberry32: small, fast and identical across platforms. */
export class SeededRng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

function tensorOf(dtype: DType, dims: readonly number[], values: ArrayLike<number>): Tensor {
  return dtype === "float64" ? f64(dims, values) : f32(dims, values);
}

/** Uniform(−b, b) with b = sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(
  rng: SeededRng,
  dims: readonly number[],
  fanIn: number,
  fanOut: number,
  dtype: DType = "float32",
): Tensor {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  const n = dims.reduce((a, b) => a * b, 1);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (2 * rng.next() - 1) * bound;
  return tensorOf(dtype, dims, values);
}

/** All zeros. */
export function zeros(dims: readonly number[], dtype: DType = "float32"): Tensor {
  return tensorOf(dtype, dims, new Float64Array(dims.reduce((a, b) => a * b, 1)));
}
