import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sampleNormal } from "../../src/datasets/distributions.js";
import { Rng } from "../../src/datasets/rng.js";
import { softmaxCrossEntropy } from "../../src/training/cross-entropy.js";
import { zerosInit } from "../../src/training/init.js";
import { accuracy, top1 } from "../../src/training/metrics.js";
import type { OptimizerConfig } from "../../src/training/optimizer-config.js";
import { initOptimizerState, optimizerStepInPlace } from "../../src/training/optimizer.js";
import { paramSet, type ParamSet } from "../../src/training/param-set.js";

// Three Gaussian blobs in 2-D: a multinomial logistic regression separates them almost perfectly.
const N = 90;
const D = 2;
const C = 3;
const CENTRES = [
  [0, 3],
  [-2.6, -1.5],
  [2.6, -1.5],
];

function blobs(seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(N * D);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const k = i % C;
    y[i] = k;
    for (let d = 0; d < D; d++) x[i * D + d] = (CENTRES[k]?.[d] ?? 0) + 0.6 * sampleNormal(rng);
  }
  return { x, y };
}

function logitsOf(p: ParamSet, x: Float32Array): Float32Array {
  const w = p.get("w")?.data as Float32Array;
  const b = p.get("b")?.data as Float32Array;
  const out = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < C; c++) {
      let s = b[c] as number;
      for (let d = 0; d < D; d++) s += (w[c * D + d] as number) * (x[i * D + d] as number);
      out[i * C + c] = s;
    }
  }
  return out;
}

/** Loss and its gradient w.r.t. W [C, D] and b [C]: dW = Gᵀ·X, db = Σ rows of G. */
function lossAndGrads(p: ParamSet, x: Float32Array, y: Int32Array): { loss: number; grads: ParamSet } {
  const { loss, grad } = softmaxCrossEntropy({ data: logitsOf(p, x), shape: [N, C] }, y);
  const gw = new Float32Array(C * D);
  const gb = new Float32Array(C);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < C; c++) {
      const g = grad[i * C + c] as number;
      gb[c] = (gb[c] as number) + g;
      for (let d = 0; d < D; d++) gw[c * D + d] = (gw[c * D + d] as number) + g * (x[i * D + d] as number);
    }
  }
  return {
    loss,
    grads: paramSet([
      ["w", { data: gw, shape: [C, D] }],
      ["b", { data: gb, shape: [C] }],
    ]),
  };
}

const configs: Array<{ name: string; config: OptimizerConfig }> = [
  { name: "plain SGD", config: { kind: "sgd", lr: 0.5 } },
  { name: "SGD with momentum 0.9 (the method's default)", config: { kind: "sgd", lr: 0.1, momentum: 0.9 } },
  {
    name: "Nesterov SGD with weight decay",
    config: { kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  },
  { name: "SGD with gradient clipping", config: { kind: "sgd", lr: 0.5, clipNorm: 0.5 } },
  { name: "Adam", config: { kind: "adam", lr: 0.05 } },
  { name: "AdamW", config: { kind: "adamw", lr: 0.05 } },
];

describe("a tiny logistic regression converges with each optimizer", () => {
  const { x, y } = blobs(42);
  for (const c of configs) {
    it(`${c.name} drives the loss down and classifies the blobs`, () => {
      const params = paramSet([
        ["w", zerosInit([C, D])],
        ["b", zerosInit([C])],
      ]);
      const state = initOptimizerState(c.config, params);
      const first = lossAndGrads(params, x, y).loss;
      for (let step = 0; step < 200; step++) {
        optimizerStepInPlace(c.config, params, lossAndGrads(params, x, y).grads, state);
      }
      const last = lossAndGrads(params, x, y).loss;
      assert.ok(Math.abs(first - Math.log(C)) < 1e-6, "zero weights start at log C");
      assert.ok(last < 0.2 * first, `loss ${first} → ${last}`);
      assert.ok(accuracy(top1({ data: logitsOf(params, x), shape: [N, C] }), y) >= 0.95);
      assert.equal(state.step, 200);
    });
  }
});
