import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/datasets/rng.js";
import { el2nKeepCount, el2nScores, selectByEl2n } from "../../src/training/el2n.js";
import { TrainingArgumentError } from "../../src/training/errors.js";
import { maxAbsDiff, randomArray, randomLabels } from "./fixtures.js";

/** Sorts (score, index) pairs: descending score, then ascending index; independent of the implementation. */
function referenceOrder(scores: number[]): number[] {
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : b[0] - a[0]))
    .map(([, i]) => i);
}

describe("EL2N scores", () => {
  it("equal ‖softmax(logits) − onehot(y)‖₂ computed directly on random logits", () => {
    const rng = new Rng(5);
    const [n, c] = [40, 7];
    const data = randomArray(rng, n * c, 4);
    const labels = randomLabels(rng, n, c);
    const want = [...Array(n).keys()].map((r) => {
      const row = [...data.subarray(r * c, (r + 1) * c)].map(Math.exp);
      const z = row.reduce((a, b) => a + b, 0);
      return Math.hypot(...row.map((e, k) => e / z - (k === labels[r] ? 1 : 0)));
    });
    assert.ok(maxAbsDiff(el2nScores({ data, shape: [n, c] }, labels), want) < 1e-12);
  });

  it("a confident right answer scores near 0, a confident wrong one near √2, uniform logits √(1 − 1/C)", () => {
    const s = el2nScores(
      { data: Float32Array.from([50, 0, 0, 0, 50, 0, 0, 0, 0]), shape: [3, 3] },
      [0, 0, 2],
    );
    assert.ok((s[0] as number) < 1e-9);
    assert.ok(Math.abs((s[1] as number) - Math.SQRT2) < 1e-9);
    assert.ok(Math.abs((s[2] as number) - Math.sqrt(1 - 1 / 3)) < 1e-12);
  });
});

describe("EL2N keep count", () => {
  const cases = [
    { name: "γ = 0 keeps every sample", n: 10, gamma: 0, batchSize: 4, keep: 10 },
    { name: "γ = 1 keeps exactly one batch", n: 10, gamma: 1, batchSize: 4, keep: 4 },
    { name: "γ = 0.5 of an odd N rounds the kept count up", n: 7, gamma: 0.5, batchSize: 1, keep: 4 },
    {
      name: "γ = 0.7 of 10 keeps 3, despite (1 − 0.7)·10 = 3.0000000000000004",
      n: 10,
      gamma: 0.7,
      batchSize: 1,
      keep: 3,
    },
    {
      name: "γ = 0.9 of 100 keeps 10, despite floating-point error",
      n: 100,
      gamma: 0.9,
      batchSize: 1,
      keep: 10,
    },
    { name: "the minimum of one batch wins over a large γ", n: 100, gamma: 0.95, batchSize: 32, keep: 32 },
    { name: "a batch larger than N keeps all N", n: 5, gamma: 0.5, batchSize: 32, keep: 5 },
    { name: "a single sample is kept", n: 1, gamma: 0.99, batchSize: 8, keep: 1 },
    { name: "no samples keep nothing", n: 0, gamma: 0.5, batchSize: 8, keep: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(el2nKeepCount(c.n, { gamma: c.gamma, batchSize: c.batchSize }), c.keep));
  }
});

describe("EL2N selection", () => {
  const cases = [
    { name: "keeps the highest scores first", scores: [0.1, 0.9, 0.5, 0.7, 0.3], gamma: 0.4, batchSize: 1 },
    {
      name: "breaks ties by ascending index",
      scores: [0.5, 0.2, 0.5, 0.5, 0.2, 0.9],
      gamma: 0.5,
      batchSize: 1,
    },
    { name: "keeps everything in rank order at γ = 0", scores: [0.3, 0.3, 0.1, 0.8], gamma: 0, batchSize: 2 },
    { name: "keeps one batch at γ = 1", scores: [0.3, 0.6, 0.1, 0.8, 0.8], gamma: 1, batchSize: 2 },
    { name: "handles a single sample", scores: [0.4], gamma: 0.5, batchSize: 4 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = selectByEl2n(c.scores, c);
      const order = referenceOrder(c.scores);
      const keep = el2nKeepCount(c.scores.length, c);
      assert.deepEqual([...got.kept], order.slice(0, keep));
      assert.deepEqual([...got.pruned], order.slice(keep));
      const mean = (idx: number[]): number | null =>
        idx.length ? idx.reduce((a, i) => a + (c.scores[i] as number), 0) / idx.length : null;
      assert.equal(got.meanKept, mean(order.slice(0, keep)));
      assert.equal(got.meanPruned, mean(order.slice(keep)));
      assert.equal(got.threshold, c.scores[order[keep - 1] as number]);
    });
  }

  it("on 1000 random scores with many ties, matches the reference ordering", () => {
    const rng = new Rng(9);
    const scores = Array.from({ length: 1000 }, () => rng.int(20) / 20);
    const got = selectByEl2n(scores, { gamma: 0.37, batchSize: 16 });
    const order = referenceOrder(scores);
    assert.equal(got.kept.length, 630);
    assert.deepEqual([...got.kept], order.slice(0, 630));
    assert.ok((got.meanKept as number) >= (got.meanPruned as number));
  });

  it("an empty score list gives empty selections and null statistics", () => {
    const got = selectByEl2n([], { gamma: 0.5, batchSize: 4 });
    assert.deepEqual([got.kept.length, got.meanKept, got.meanPruned, got.threshold], [0, null, null, null]);
  });

  const bad = [
    {
      name: "γ below 0 is refused",
      run: () => selectByEl2n([1], { gamma: -0.1, batchSize: 1 }),
      field: "gamma",
    },
    {
      name: "γ above 1 is refused",
      run: () => selectByEl2n([1], { gamma: 1.5, batchSize: 1 }),
      field: "gamma",
    },
    {
      name: "a batch size of 0 is refused",
      run: () => selectByEl2n([1], { gamma: 0.5, batchSize: 0 }),
      field: "batchSize",
    },
    {
      name: "a NaN score names its index",
      run: () => selectByEl2n([1, NaN], { gamma: 0.5, batchSize: 1 }),
      field: "scores[1]",
    },
  ];
  for (const c of bad) {
    it(c.name, () =>
      assert.throws(c.run, (e: unknown) => e instanceof TrainingArgumentError && e.field === c.field),
    );
  }
});

describe("EL2N selection balanced across classes", () => {
  it("keeps the hardest of every class, not the hardest class", () => {
    // Class 1 scores higher across the board: the overall top half would be all class 1.
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const scores = [0.1, 0.4, 0.3, 0.2, 0.9, 0.6, 0.8, 0.7];
    const overall = selectByEl2n(scores, { gamma: 0.5, batchSize: 1 });
    assert.deepEqual(
      [...overall.kept].map((i) => labels[i]),
      [1, 1, 1, 1],
    );
    const got = selectByEl2n(scores, { gamma: 0.5, batchSize: 1, labels });
    assert.deepEqual(
      [...got.kept].sort((a, b) => a - b),
      [1, 2, 4, 6],
    );
    assert.equal(got.threshold, 0.3);
  });

  it("on 2000 random samples keeps each class's share within one sample, hardest first within it", () => {
    const rng = new Rng(4);
    const n = 2000;
    const labels = Array.from({ length: n }, () => (rng.int(10) < 7 ? rng.int(3) : 3 + rng.int(7)));
    const scores = labels.map((y) => y / 10 + rng.int(1000) / 1000);
    const gamma = 0.6;
    const got = selectByEl2n(scores, { gamma, batchSize: 8, labels });
    assert.equal(got.kept.length + got.pruned.length, n);
    assert.equal(got.kept.length, el2nKeepCount(n, { gamma, batchSize: 8 }));
    for (let c = 0; c < 10; c++) {
      const members = labels.flatMap((y, i) => (y === c ? [i] : []));
      const kept = [...got.kept].filter((i) => labels[i] === c);
      assert.ok(Math.abs(kept.length - (1 - gamma) * members.length) <= 1, `class ${c}`);
      const keptMin = Math.min(...kept.map((i) => scores[i] as number));
      const prunedMax = Math.max(...members.filter((i) => !kept.includes(i)).map((i) => scores[i] as number));
      assert.ok(keptMin >= prunedMax, `class ${c}: a pruned sample scores above a kept one`);
    }
  });

  it("a label list of the wrong length is refused, naming labels", () => {
    assert.throws(
      () => selectByEl2n([0.1, 0.2], { gamma: 0.5, batchSize: 1, labels: [0] }),
      (e: unknown) => e instanceof TrainingArgumentError && e.field === "labels",
    );
  });
});
