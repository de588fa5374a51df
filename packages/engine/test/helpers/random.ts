// Seeded random numbers for test fixtures (mulberry32), so a failing case reproduces exactly.
import { f32, f64, makeTensor, type DType, type Tensor } from "@sfprompt/engine";
import { SeededRng } from "../../src/split/init.js";

/** The engine's own generator (its next() in [0, 1)), with the draws fixtures need on top. */
export class Rng extends SeededRng {
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

export interface RandomSpec {
  /** Values in [lo, hi) instead of normal(0, scale). */
  readonly range?: readonly [number, number];
  readonly scale?: number;
}

/** A random float tensor of the given dtype and shape. */
export function randomTensor(rng: Rng, dtype: DType, dims: readonly number[], spec: RandomSpec = {}): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () =>
    spec.range
      ? spec.range[0] + (spec.range[1] - spec.range[0]) * rng.next()
      : rng.normal() * (spec.scale ?? 1),
  );
  return dtype === "float64" ? f64(dims, values) : f32(dims, values);
}

/** A random int64 tensor with values in [0, n). */
export function randomIds(rng: Rng, dims: readonly number[], n: number): Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  return makeTensor(
    "int64",
    dims,
    BigInt64Array.from({ length: count }, () => BigInt(rng.int(n))),
  );
}
