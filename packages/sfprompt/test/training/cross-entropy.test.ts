import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/datasets/rng.js";
import { softmaxCrossEntropy } from "../../src/training/cross-entropy.js";
import { TensorShapeError, TrainingArgumentError } from "../../src/training/errors.js";
import { softmax } from "../../src/training/logits.js";
import { maxAbsDiff, randomArray, randomLabels } from "./fixtures.js";

/** The textbook definition in float64, no tricks: mean of −log(exp(x_y) / Σ exp(x)). */
function referenceLoss(x: ArrayLike<number>, b: number, c: number, labels: ArrayLike<number>): number {
  let total = 0;
  for (let r = 0; r < b; r++) {
    let z = 0;
    for (let k = 0; k < c; k++) z += Math.exp(x[r * c + k] as number);
    total += -Math.log(Math.exp(x[r * c + (labels[r] as number)] as number) / z);
  }
  return total / b;
}

const shapes = [
  { name: "one sample, two classes", b: 1, c: 2, scale: 1 },
  { name: "a batch of 8 over 10 classes", b: 8, c: 10, scale: 3 },
  { name: "a batch of 5 over 3 classes with large spread", b: 5, c: 3, scale: 8 },
  { name: "a batch of 16 over 100 classes", b: 16, c: 100, scale: 2 },
];

describe("softmax cross-entropy against a direct float64 implementation", () => {
  for (const [i, s] of shapes.entries()) {
    it(`${s.name}: loss, per-sample loss and probabilities match`, () => {
      const rng = new Rng(100 + i);
      const data = randomArray(rng, s.b * s.c, s.scale);
      const labels = randomLabels(rng, s.b, s.c);
      const got = softmaxCrossEntropy({ data, shape: [s.b, s.c] }, labels);
      const want = referenceLoss(data, s.b, s.c, labels);
      assert.ok(Math.abs(got.loss - want) < 1e-9 * Math.max(1, want), `${got.loss} vs ${want}`);
      const perSample = [...Array(s.b).keys()].map((r) =>
        referenceLoss(data.subarray(r * s.c, (r + 1) * s.c), 1, s.c, [labels[r] as number]),
      );
      assert.ok(maxAbsDiff(got.perSample, perSample) < 1e-9);
      for (let r = 0; r < s.b; r++) {
        const row = got.probs.subarray(r * s.c, (r + 1) * s.c);
        assert.ok(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-6);
        assert.ok(Math.abs(Math.log(row[labels[r] as number] as number) + (perSample[r] as number)) < 1e-5);
      }
    });
  }
});

describe("softmax cross-entropy gradient against central finite differences", () => {
  for (const [i, s] of shapes.entries()) {
    it(`${s.name}: d loss / d logits matches (f(x+h) − f(x−h)) / 2h in float64`, () => {
      const rng = new Rng(200 + i);
      const data = randomArray(rng, s.b * s.c, s.scale);
      const labels = randomLabels(rng, s.b, s.c);
      const { grad } = softmaxCrossEntropy({ data, shape: [s.b, s.c] }, labels);
      const x = Float64Array.from(data);
      const h = 1e-5;
      const fd = new Float64Array(x.length);
      for (let k = 0; k < x.length; k++) {
        const keep = x[k] as number;
        x[k] = keep + h;
        const up = referenceLoss(x, s.b, s.c, labels);
        x[k] = keep - h;
        const down = referenceLoss(x, s.b, s.c, labels);
        x[k] = keep;
        fd[k] = (up - down) / (2 * h);
      }
      assert.ok(maxAbsDiff(grad, fd) < 1e-6, `max diff ${maxAbsDiff(grad, fd)}`);
    });
  }
});

describe("softmax cross-entropy numerics and validation", () => {
  it("huge logits give the same loss as the same logits shifted to zero (log-sum-exp)", () => {
    const rng = new Rng(7);
    const base = randomArray(rng, 12, 2);
    const labels = randomLabels(rng, 3, 4);
    const shifted = base.map((v, k) => v + (k < 4 ? 5e3 : k < 8 ? -5e3 : 3e4));
    const a = softmaxCrossEntropy({ data: base, shape: [3, 4] }, labels);
    const b = softmaxCrossEntropy({ data: shifted, shape: [3, 4] }, labels);
    assert.ok(Number.isFinite(b.loss));
    // float32 storage of 3e4 + x keeps ~2e-3 absolute precision; the loss must agree to that.
    assert.ok(Math.abs(a.loss - b.loss) < 5e-3, `${a.loss} vs ${b.loss}`);
    assert.ok(maxAbsDiff(a.probs, b.probs) < 5e-3);
  });

  it("the gradient rows sum to zero and equal (p − onehot) / B", () => {
    const rng = new Rng(8);
    const data = randomArray(rng, 20, 2);
    const labels = randomLabels(rng, 4, 5);
    const { grad, probs } = softmaxCrossEntropy({ data, shape: [4, 5] }, labels);
    const want = probs.map((p, k) => (p - (k % 5 === labels[Math.floor(k / 5)] ? 1 : 0)) / 4);
    assert.ok(maxAbsDiff(grad, want) < 1e-7);
    for (let r = 0; r < 4; r++)
      assert.ok(Math.abs(grad.subarray(r * 5, r * 5 + 5).reduce((a, v) => a + v, 0)) < 1e-7);
  });

  it("softmax alone equals the probabilities the loss returns", () => {
    const rng = new Rng(9);
    const data = randomArray(rng, 15, 4);
    const labels = randomLabels(rng, 3, 5);
    assert.deepEqual(
      softmax({ data, shape: [3, 5] }),
      softmaxCrossEntropy({ data, shape: [3, 5] }, labels).probs,
    );
  });

  it("an empty batch has loss 0 and empty outputs", () => {
    const got = softmaxCrossEntropy({ data: new Float32Array(0), shape: [0, 3] }, []);
    assert.equal(got.loss, 0);
    assert.equal(got.grad.length, 0);
  });

  const bad: Array<{
    name: string;
    shape: number[];
    data: number[];
    labels: number[];
    error: new (...args: never[]) => Error;
    msg: RegExp;
  }> = [
    {
      name: "1-D logits are refused",
      shape: [4],
      data: [0, 0, 0, 0],
      labels: [0],
      error: TensorShapeError,
      msg: /2-D/,
    },
    {
      name: "data shorter than the shape is refused",
      shape: [2, 3],
      data: [0, 0, 0],
      labels: [0, 1],
      error: TensorShapeError,
      msg: /needs 6/,
    },
    {
      name: "one label per row is required",
      shape: [2, 2],
      data: [0, 0, 0, 0],
      labels: [0],
      error: TensorShapeError,
      msg: /batch has 2/,
    },
    {
      name: "a label equal to the class count names its index",
      shape: [2, 2],
      data: [0, 0, 0, 0],
      labels: [0, 2],
      error: TrainingArgumentError,
      msg: /labels\[1\] is 2/,
    },
    {
      name: "a fractional label is refused",
      shape: [1, 2],
      data: [0, 0],
      labels: [0.5],
      error: TrainingArgumentError,
      msg: /integers/,
    },
    {
      name: "a NaN logit names row and column",
      shape: [2, 2],
      data: [0, 0, 0, NaN],
      labels: [0, 1],
      error: TrainingArgumentError,
      msg: /row 1 column 1/,
    },
  ];
  for (const c of bad) {
    it(c.name, () => {
      assert.throws(
        () => softmaxCrossEntropy({ data: Float32Array.from(c.data), shape: c.shape }, c.labels),
        (err: unknown) => err instanceof c.error && c.msg.test((err as Error).message),
      );
    });
  }
});
