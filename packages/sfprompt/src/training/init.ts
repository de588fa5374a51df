// Seeded initialisers for trained parameters (soft prompts, a fresh classifier), driven by the
// datasets layer's Rng so that the same seed gives the same start on every machine.
import { sampleNormal } from "../datasets/distributions.js";
import type { Rng } from "../datasets/rng.js";
import { TrainingArgumentError } from "./errors.js";
import { shapeSize, type ParamTensor } from "./param-set.js";

/** Fan-in and fan-out that set the Xavier bound sqrt(6 / (fanIn + fanOut)). */
export interface Fans {
  readonly fanIn: number;
  readonly fanOut: number;
}

/**
 * PyTorch's fans for a weight shape: [out, in, ...receptive] → fanIn = in·receptive,
 * fanOut = out·receptive; a vector counts as [n] → fanIn = fanOut = n.
 */
export function defaultFans(shape: readonly number[]): Fans {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0] as number, fanOut: shape[0] as number };
  const receptive = shapeSize(shape.slice(2));
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/**
 * VPT's fans for [P, D] prompt tokens: the prompt stands in for an embedded patch, so fanIn is the
 * patch embedding's input size (3·patch² for a ViT; D when the model has no patch embedding, e.g. text)
 * and fanOut is the token width D. The bound is sqrt(6 / (fanIn + D)), independent of P.
 */
export function promptFans(dim: number, patchFanIn?: number): Fans {
  return { fanIn: patchFanIn ?? dim, fanOut: dim };
}

function checkBound(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new TrainingArgumentError(`${name} must be a finite number > 0, got ${v}`, name);
  }
}

/** Uniform(−b, b) with b = sqrt(6 / (fanIn + fanOut)); fans default to defaultFans(shape). */
export function xavierUniform(shape: readonly number[], rng: Rng, fans?: Fans): ParamTensor {
  const f = fans ?? defaultFans(shape);
  checkBound("fanIn", f.fanIn);
  checkBound("fanOut", f.fanOut);
  const bound = Math.sqrt(6 / (f.fanIn + f.fanOut));
  const data = new Float32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * bound;
  return { data, shape: [...shape] };
}

/** [P, D] prompt tokens, xavier-uniform with VPT's fans (see promptFans). */
export function initPrompts(tokens: number, dim: number, rng: Rng, patchFanIn?: number): ParamTensor {
  return xavierUniform([tokens, dim], rng, promptFans(dim, patchFanIn));
}

/** All zeros (biases, a fresh classifier's bias). */
export function zerosInit(shape: readonly number[]): ParamTensor {
  return { data: new Float32Array(shapeSize(shape)), shape: [...shape] };
}

/** Normal(mean, std²) draws; std = 0 gives a constant tensor. */
export function normalInit(shape: readonly number[], rng: Rng, std: number, mean = 0): ParamTensor {
  if (!(std >= 0) || !Number.isFinite(std)) {
    throw new TrainingArgumentError(`std must be a finite number ≥ 0, got ${std}`, "std");
  }
  const data = new Float32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * sampleNormal(rng);
  return { data, shape: [...shape] };
}
