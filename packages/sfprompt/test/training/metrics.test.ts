import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/datasets/rng.js";
import { TrainingArgumentError } from "../../src/training/errors.js";
import { accuracy, confusionAccuracy, confusionMatrix, top1 } from "../../src/training/metrics.js";
import { randomArray, randomLabels } from "./fixtures.js";

describe("top1", () => {
  const cases = [
    { name: "picks the largest logit of each row", data: [0.1, 2, -1, 5, 4, 3], shape: [2, 3], want: [1, 0] },
    { name: "a tie goes to the lowest class index", data: [1, 3, 3, 2, 2, 2], shape: [2, 3], want: [1, 0] },
    { name: "negative logits work", data: [-5, -2, -9], shape: [1, 3], want: [1] },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual([...top1({ data: Float32Array.from(c.data), shape: c.shape })], c.want),
    );
  }

  it("agrees with a direct arg-max on random logits", () => {
    const rng = new Rng(3);
    const data = randomArray(rng, 50 * 7);
    const got = top1({ data, shape: [50, 7] });
    for (let r = 0; r < 50; r++) {
      const row = [...data.subarray(r * 7, r * 7 + 7)];
      assert.equal(got[r], row.indexOf(Math.max(...row)));
    }
  });
});

describe("accuracy and confusion matrix", () => {
  it("accuracy counts matches over the batch", () => {
    assert.equal(accuracy([0, 1, 2, 2], [0, 1, 1, 2]), 0.75);
  });

  it("the confusion matrix has true labels as rows and predictions as columns", () => {
    const m = confusionMatrix([0, 1, 1, 2, 0], [0, 1, 2, 2, 1], 3);
    assert.deepEqual([...m.counts], [1, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it("on random data, the trace over the total equals accuracy and the row sums equal the label counts", () => {
    const rng = new Rng(4);
    const labels = randomLabels(rng, 200, 6);
    const preds = randomLabels(rng, 200, 6);
    const m = confusionMatrix(preds, labels, 6);
    assert.equal(confusionAccuracy(m), accuracy(preds, labels));
    for (let k = 0; k < 6; k++) {
      const rowSum = m.counts.subarray(k * 6, k * 6 + 6).reduce((a, v) => a + v, 0);
      assert.equal(rowSum, labels.filter((y) => y === k).length);
    }
  });

  const bad = [
    { name: "accuracy of no samples is refused", run: () => accuracy([], []) },
    { name: "a prediction outside the classes is refused", run: () => confusionMatrix([3], [0], 3) },
    { name: "zero classes are refused", run: () => confusionMatrix([], [], 0) },
  ];
  for (const c of bad) it(c.name, () => assert.throws(c.run, TrainingArgumentError));
});
