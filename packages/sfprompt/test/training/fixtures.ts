// Builders shared by the training tests: seeded random tensors and parameter sets.
import { Rng } from "../../src/datasets/rng.js";
import { paramSet, type ParamSet, type ParamTensor } from "../../src/training/param-set.js";

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * scale;
  return out;
}

export function randomTensor(rng: Rng, shape: number[], scale = 1): ParamTensor {
  return {
    data: randomArray(
      rng,
      shape.reduce((a, b) => a * b, 1),
      scale,
    ),
    shape,
  };
}

/** A prompt + tail shaped set: prompt [P, D], tail.weight [C, D], tail.bias [C]. */
export function randomParams(seed: number, p = 3, d = 4, c = 2, scale = 1): ParamSet {
  const rng = new Rng(seed);
  return paramSet([
    ["prompt", randomTensor(rng, [p, d], scale)],
    ["tail.weight", randomTensor(rng, [c, d], scale)],
    ["tail.bias", randomTensor(rng, [c], scale)],
  ]);
}

export function randomLabels(rng: Rng, n: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(classes);
  return out;
}

/** Largest |a_i − b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
