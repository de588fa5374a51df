import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TrainingArgumentError } from "../../src/training/errors.js";
import { clipByGlobalNorm } from "../../src/training/grad-clip.js";
import {
  learningRateForRound,
  optimizerConfigFromSpec,
  type OptimizerConfig,
} from "../../src/training/optimizer-config.js";
import {
  initOptimizerState,
  optimizerStep,
  optimizerStepInPlace,
  type OptimizerState,
} from "../../src/training/optimizer.js";
import { cloneParams, flattenParams, l2Norm, paramSet, type ParamSet } from "../../src/training/param-set.js";
import { maxAbsDiff } from "./fixtures.js";

const P0 = [0.5, -1.25, 2, 0.1];
const vec = (v: number[]): ParamSet => paramSet([["w", { data: Float32Array.from(v), shape: [v.length] }]]);
const values = (p: ParamSet): number[] => [...flattenParams(p)];

function run(config: OptimizerConfig, grads: number[][], p0 = P0): number[] {
  const params = vec(p0);
  const state = initOptimizerState(config, params);
  for (const g of grads) optimizerStepInPlace(config, params, vec(g), state);
  return values(params);
}

const constant = (g: number[], steps: number): number[][] => Array.from({ length: steps }, () => g);
const G = [0.3, -0.7, 0.05, 1.5];
const T = 6;
// S_t = 1 + mu + … + mu^(t−1): the momentum buffer under a constant gradient is g·S_t.
const geometric = (mu: number, t: number): number => (1 - mu ** t) / (1 - mu);
const sum = (n: number, f: (t: number) => number): number =>
  Array.from({ length: n }, (_, i) => f(i + 1)).reduce((a, b) => a + b, 0);

describe("optimizer steps against closed forms", () => {
  const cases: Array<{
    name: string;
    config: OptimizerConfig;
    grads: number[][];
    want: (p: number, g: number) => number;
  }> = [
    {
      name: "plain SGD moves by lr·g per step",
      config: { kind: "sgd", lr: 0.1 },
      grads: constant(G, T),
      want: (p, g) => p - T * 0.1 * g,
    },
    {
      name: "SGD with momentum under a constant gradient moves by lr·g·Σ S_t",
      config: { kind: "sgd", lr: 0.05, momentum: 0.9 },
      grads: constant(G, T),
      want: (p, g) => p - 0.05 * g * sum(T, (t) => geometric(0.9, t)),
    },
    {
      name: "Nesterov SGD under a constant gradient moves by lr·g·Σ (1 + mu·S_t)",
      config: { kind: "sgd", lr: 0.05, momentum: 0.8, nesterov: true },
      grads: constant(G, T),
      want: (p, g) => p - 0.05 * g * sum(T, (t) => 1 + 0.8 * geometric(0.8, t)),
    },
    {
      name: "SGD weight decay with zero gradient shrinks by (1 − lr·wd) per step",
      config: { kind: "sgd", lr: 0.1, weightDecay: 0.5 },
      grads: constant([0, 0, 0, 0], T),
      want: (p) => p * (1 - 0.1 * 0.5) ** T,
    },
    {
      name: "bias-corrected Adam under a constant gradient moves by lr·g/(|g| + eps) per step",
      config: { kind: "adam", lr: 0.01, eps: 1e-3 },
      grads: constant(G, T),
      want: (p, g) => p - T * 0.01 * (g / (Math.abs(g) + 1e-3)),
    },
    {
      name: "AdamW with zero gradient only decays: p·(1 − lr·wd)^T",
      config: { kind: "adamw", lr: 0.1, weightDecay: 0.2 },
      grads: constant([0, 0, 0, 0], T),
      want: (p) => p * (1 - 0.1 * 0.2) ** T,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = run(c.config, c.grads);
      const want = P0.map((p, i) => c.want(p, G[i] as number));
      assert.ok(maxAbsDiff(got, want) < 2e-6, `${got} vs ${want}`);
    });
  }
});

/** Scalar float64 recurrences written from the papers' update rules. */
function referenceSgd(
  c: { lr: number; mu: number; damp: number; wd: number; nesterov: boolean },
  grads: number[][],
): number[] {
  return P0.map((p0, i) => {
    let p = p0;
    let buf = 0;
    grads.forEach((gs, t) => {
      let g = (gs[i] as number) + c.wd * p;
      if (c.mu > 0) {
        buf = t === 0 ? g : c.mu * buf + (1 - c.damp) * g;
        g = c.nesterov ? g + c.mu * buf : buf;
      }
      p -= c.lr * g;
    });
    return p;
  });
}

function referenceAdam(
  c: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean },
  grads: number[][],
): number[] {
  return P0.map((p0, i) => {
    let [p, m, v] = [p0, 0, 0];
    grads.forEach((gs, k) => {
      const t = k + 1;
      let g = gs[i] as number;
      if (c.decoupled) p -= c.lr * c.wd * p;
      else g += c.wd * p;
      m = c.b1 * m + (1 - c.b1) * g;
      v = c.b2 * v + (1 - c.b2) * g * g;
      const mHat = m / (1 - c.b1 ** t);
      const vHat = v / (1 - c.b2 ** t);
      p -= (c.lr * mHat) / (Math.sqrt(vHat) + c.eps);
    });
    return p;
  });
}

// Gradients that change sign and size from step to step.
const varying = Array.from({ length: 5 }, (_, t) => G.map((g, i) => g * Math.cos(t + i) + 0.1 * (t - 2)));

describe("optimizer steps against float64 recurrences on changing gradients", () => {
  const cases: Array<{ name: string; config: OptimizerConfig; want: number[] }> = [
    {
      name: "SGD with momentum, dampening and weight decay",
      config: { kind: "sgd", lr: 0.07, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 },
      want: referenceSgd({ lr: 0.07, mu: 0.9, damp: 0.1, wd: 0.01, nesterov: false }, varying),
    },
    {
      name: "Nesterov SGD with weight decay",
      config: { kind: "sgd", lr: 0.03, momentum: 0.95, nesterov: true, weightDecay: 0.05 },
      want: referenceSgd({ lr: 0.03, mu: 0.95, damp: 0, wd: 0.05, nesterov: true }, varying),
    },
    {
      name: "Adam with L2 weight decay in the gradient",
      config: { kind: "adam", lr: 0.02, beta1: 0.8, beta2: 0.99, weightDecay: 0.1 },
      want: referenceAdam({ lr: 0.02, b1: 0.8, b2: 0.99, eps: 1e-8, wd: 0.1, decoupled: false }, varying),
    },
    {
      name: "AdamW with its default decoupled weight decay",
      config: { kind: "adamw", lr: 0.02 },
      want: referenceAdam({ lr: 0.02, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true }, varying),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = run(c.config, varying);
      assert.ok(maxAbsDiff(got, c.want) < 2e-6, `${got} vs ${c.want}`);
    });
  }
});

describe("gradient clipping by global norm", () => {
  const grads = paramSet([
    ["a", { data: Float32Array.from([3, 0]), shape: [2] }],
    ["b", { data: Float32Array.from([4]), shape: [1] }],
  ]);
  it("a gradient above the limit is scaled to the limit, keeping its direction", () => {
    const { grads: out, norm, scale } = clipByGlobalNorm(grads, 1);
    assert.equal(norm, 5);
    assert.ok(Math.abs(l2Norm(out) - 1) < 1e-6);
    assert.ok(maxAbsDiff(flattenParams(out), [3 * scale, 0, 4 * scale]) < 1e-7);
    assert.deepEqual(values(grads), [3, 0, 4]);
  });
  it("a gradient below the limit is unchanged", () => {
    const { grads: out, scale } = clipByGlobalNorm(grads, 10);
    assert.equal(scale, 1);
    assert.deepEqual(values(out), [3, 0, 4]);
  });
  it("an SGD step with clipNorm uses the clipped gradient", () => {
    const g = [3, 0, 4, 0];
    const got = run({ kind: "sgd", lr: 0.5, clipNorm: 2 }, [g]);
    const s = 2 / (5 + 1e-6);
    assert.ok(
      maxAbsDiff(
        got,
        P0.map((p, i) => p - 0.5 * s * (g[i] as number)),
      ) < 1e-6,
    );
  });
  it("a NaN gradient is refused rather than clipped", () => {
    assert.throws(() => run({ kind: "sgd", lr: 0.5, clipNorm: 2 }, [[NaN, 0, 0, 0]]), TrainingArgumentError);
  });
});

describe("optimizer API", () => {
  it("the pure step leaves params and state untouched and matches the in-place step", () => {
    const config: OptimizerConfig = { kind: "adam", lr: 0.1 };
    const params = vec(P0);
    const state = initOptimizerState(config, params);
    const out = optimizerStep(config, params, vec(G), state);
    assert.deepEqual(values(params), values(vec(P0)));
    assert.equal(state.step, 0);
    assert.equal(out.state.step, 1);
    const inPlace = cloneParams(params);
    optimizerStepInPlace(config, inPlace, vec(G), initOptimizerState(config, inPlace));
    assert.deepEqual(values(out.params), values(inPlace));
  });

  it("a per-step learning rate overrides the configured one", () => {
    const params = vec(P0);
    const config: OptimizerConfig = { kind: "sgd", lr: 1 };
    const info = optimizerStepInPlace(config, params, vec(G), initOptimizerState(config, params), {
      lr: 0.01,
    });
    assert.equal(info.lr, 0.01);
    assert.ok(
      maxAbsDiff(
        values(params),
        P0.map((p, i) => p - 0.01 * (G[i] as number)),
      ) < 1e-7,
    );
  });

  it("the job spec's sgd section maps to SGD with its momentum and weight decay", () => {
    const spec = {
      name: "sgd",
      learningRate: 0.01,
      momentum: 0.9,
      weightDecay: 0.001,
      beta1: 0.9,
      beta2: 0.999,
    } as const;
    const c = optimizerConfigFromSpec(spec);
    assert.deepEqual(
      run(c, varying),
      run({ kind: "sgd", lr: 0.01, momentum: 0.9, weightDecay: 0.001 }, varying),
    );
    assert.equal(c.kind, "sgd");
  });

  it("the job spec's adam section maps to Adam with its betas", () => {
    const spec = {
      name: "adam",
      learningRate: 0.02,
      momentum: 0.9,
      weightDecay: 0.1,
      beta1: 0.8,
      beta2: 0.99,
    } as const;
    const got = run(optimizerConfigFromSpec(spec), varying);
    const want = referenceAdam(
      { lr: 0.02, b1: 0.8, b2: 0.99, eps: 1e-8, wd: 0.1, decoupled: false },
      varying,
    );
    assert.ok(maxAbsDiff(got, want) < 2e-6);
  });

  describe("learning rate over the rounds", () => {
    const base = { name: "sgd", learningRate: 0.1, momentum: 0, beta1: 0.9, beta2: 0.999 } as const;
    const cosine = { ...base, schedule: "cosine" } as const;
    const cases = [
      { name: "constant keeps the rate every round", spec: base, round: 7, rounds: 10, lr: 0.1 },
      { name: "cosine starts at the full rate", spec: cosine, round: 1, rounds: 10, lr: 0.1 },
      { name: "cosine halves it mid-way", spec: cosine, round: 6, rounds: 10, lr: 0.05 },
      {
        name: "cosine ends above zero on the last round",
        spec: cosine,
        round: 10,
        rounds: 10,
        lr: 0.1 * 0.5 * (1 + Math.cos((Math.PI * 9) / 10)),
      },
      { name: "cosine over one round is constant", spec: cosine, round: 1, rounds: 1, lr: 0.1 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        assert.ok(Math.abs(learningRateForRound(c.spec, c.round, c.rounds) - c.lr) < 1e-12);
        const cfg = optimizerConfigFromSpec(c.spec, c.round, c.rounds);
        // The config steps exactly as plain SGD with that rate.
        assert.deepEqual(run(cfg, varying), run({ kind: "sgd", lr: c.lr, momentum: 0 }, varying));
      });
    }
    it("cosine decreases strictly from round to round", () => {
      const lrs = Array.from({ length: 15 }, (_, i) => learningRateForRound(cosine, i + 1, 15));
      for (let i = 1; i < lrs.length; i++) assert.ok((lrs[i] as number) < (lrs[i - 1] as number));
    });
  });

  const bad: Array<{ name: string; run: () => unknown; field: string }> = [
    { name: "a negative learning rate is refused", run: () => run({ kind: "sgd", lr: -1 }, []), field: "lr" },
    {
      name: "momentum 1 is refused",
      run: () => run({ kind: "sgd", lr: 1, momentum: 1 }, []),
      field: "momentum",
    },
    {
      name: "Nesterov without momentum is refused",
      run: () => run({ kind: "sgd", lr: 1, nesterov: true }, []),
      field: "nesterov",
    },
    { name: "beta2 of 1 is refused", run: () => run({ kind: "adam", lr: 1, beta2: 1 }, []), field: "beta2" },
    { name: "eps of 0 is refused", run: () => run({ kind: "adamw", lr: 1, eps: 0 }, []), field: "eps" },
    {
      name: "state from another optimizer kind is refused",
      run: () => {
        const params = vec(P0);
        const s: OptimizerState = initOptimizerState({ kind: "sgd", lr: 1 }, params);
        optimizerStepInPlace({ kind: "adam", lr: 1 }, params, vec(G), s);
      },
      field: "kind",
    },
  ];
  for (const c of bad) {
    it(c.name, () =>
      assert.throws(c.run, (err: unknown) => err instanceof TrainingArgumentError && err.field === c.field),
    );
  }
});
