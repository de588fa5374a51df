// Samplers for the distributions that partitioning needs: standard normal, Gamma (Marsaglia–Tsang)
// and Dirichlet, all driven by the seeded Rng so that draws are reproducible.

import { DatasetArgumentError } from "./errors.js";
import type { Rng } from "./rng.js";

/** A standard normal draw (Box–Muller; one value per call, no hidden cached state). */
export function sampleNormal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) must not happen
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function checkShape(shape: number, field: string): void {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new DatasetArgumentError(field, `must be a finite number > 0, got ${shape}`);
  }
}

// Marsaglia & Tsang (2000), "A simple method for generating gamma variables", for shape >= 1.
function marsagliaTsang(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * The natural log of a Gamma(shape, 1) draw. For shape < 1 it uses the boost
 * G(a) = G(a + 1) · U^(1/a) in log space, because U^(1/a) underflows to 0 for small a (α = 0.01
 * Dirichlet draws would otherwise be all zeros).
 */
export function sampleLogGamma(rng: Rng, shape: number): number {
  checkShape(shape, "gamma shape");
  if (shape >= 1) return Math.log(marsagliaTsang(rng, shape));
  const u = 1 - rng.next();
  return Math.log(marsagliaTsang(rng, shape + 1)) + Math.log(u) / shape;
}

/** A Gamma(shape, scale) draw; mean shape·scale, variance shape·scale². */
export function sampleGamma(rng: Rng, shape: number, scale = 1): number {
  checkShape(scale, "gamma scale");
  return Math.exp(sampleLogGamma(rng, shape)) * scale;
}

/**
 * A Dirichlet(alpha) draw: independent Gamma(alpha_i) normalised to sum 1, computed with
 * log-sum-exp so that tiny concentrations still give a valid point of the simplex.
 */
export function sampleDirichlet(rng: Rng, alpha: ArrayLike<number>): Float64Array {
  if (alpha.length === 0) throw new DatasetArgumentError("alpha", "needs at least one component");
  const logs = new Float64Array(alpha.length);
  let max = -Infinity;
  for (let i = 0; i < alpha.length; i++) {
    const value = sampleLogGamma(rng, alpha[i] as number);
    logs[i] = value;
    if (value > max) max = value;
  }
  let sum = 0;
  for (let i = 0; i < logs.length; i++) {
    logs[i] = Math.exp((logs[i] as number) - max);
    sum += logs[i] as number;
  }
  for (let i = 0; i < logs.length; i++) logs[i] = (logs[i] as number) / sum;
  return logs;
}

/** A symmetric Dirichlet(α, …, α) draw over k components. */
export function sampleSymmetricDirichlet(rng: Rng, alpha: number, k: number): Float64Array {
  if (!Number.isInteger(k) || k <= 0)
    throw new DatasetArgumentError("k", `must be a positive integer, got ${k}`);
  return sampleDirichlet(rng, new Float64Array(k).fill(alpha));
}
