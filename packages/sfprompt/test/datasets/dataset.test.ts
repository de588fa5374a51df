// In-memory datasets: validation, index views that share the buffer, batching, normalisation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  batchCount,
  batches,
  channelStats,
  classCounts,
  createDataset,
  datasetSize,
  gatherBatch,
  materialize,
  normalizeDataset,
  sampleAt,
  subset,
} from "@sfprompt/core";
import { numberedImages } from "./fixtures.js";

describe("createDataset", () => {
  const bad = [
    {
      name: "a buffer whose length is not N × sample size",
      init: { x: new Float32Array(10), sampleShape: [3], labels: new Int32Array(3), classNames: ["a"] },
      error: "DatasetArgumentError",
    },
    {
      name: "a label outside the class list",
      init: {
        x: new Float32Array(6),
        sampleShape: [2],
        labels: Int32Array.of(0, 2, 1),
        classNames: ["a", "b"],
      },
      error: "LabelError",
    },
    {
      name: "an empty class list",
      init: { x: new Float32Array(0), sampleShape: [2], labels: new Int32Array(0), classNames: [] },
      error: "LabelError",
    },
    {
      name: "a zero dimension in the sample shape",
      init: { x: new Float32Array(0), sampleShape: [0], labels: new Int32Array(0), classNames: ["a"] },
      error: "DatasetArgumentError",
    },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => assert.throws(() => createDataset(c.init), { name: c.error }));
  }

  it("holds token ids as BigInt64 rows", () => {
    const ds = createDataset({
      x: BigInt64Array.of(101n, 7n, 102n, 101n, 9n, 102n),
      sampleShape: [3],
      labels: Int32Array.of(1, 0),
      classNames: ["neg", "pos"],
    });
    assert.deepEqual(Array.from(sampleAt(ds, 1)), [101n, 9n, 102n]);
  });
});

describe("views", () => {
  it("selects samples without copying the buffer, also through a view of a view", () => {
    const ds = numberedImages(10, [1, 2, 2]);
    const a = subset(ds, [9, 2, 5, 7]);
    const b = subset(a, [3, 1]);
    assert.equal(b.x, ds.x);
    assert.deepEqual(Array.from(b.rows ?? []), [7, 2]);
    assert.deepEqual(Array.from(b.labels), [7 % 3, 2 % 3]);
    assert.deepEqual(Array.from(sampleAt(b, 0)), Array.from(sampleAt(ds, 7)));
    assert.equal(sampleAt(b, 0)[0], 7);
  });

  it("materialises a view into a contiguous buffer holding exactly its samples", () => {
    const ds = numberedImages(6, [1, 1, 3]);
    const dense = materialize(subset(ds, [4, 1]));
    assert.equal(dense.rows, null);
    assert.deepEqual(Array.from(dense.x), [4, 4.001, 4.002, 1, 1.001, 1.002].map(Math.fround));
  });

  it("counts samples per class", () => {
    assert.deepEqual(Array.from(classCounts(numberedImages(10, [1, 1, 1]))), [4, 3, 3]);
  });

  it("rejects an index outside the dataset", () => {
    assert.throws(() => subset(numberedImages(3, [1, 1, 1]), [3]), { name: "DatasetArgumentError" });
  });
});

describe("batches", () => {
  const ds = subset(
    numberedImages(23, [1, 2, 2]),
    Array.from({ length: 20 }, (_, i) => i + 3),
  );
  const cases = [
    { name: "keeps the last short batch by default", dropLast: false, sizes: [8, 8, 4] },
    { name: "drops the last short batch with dropLast", dropLast: true, sizes: [8, 8] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = [...batches(ds, { batchSize: 8, seed: 1, dropLast: c.dropLast })];
      assert.deepEqual(
        got.map((b) => b.labels.length),
        c.sizes,
      );
      assert.equal(batchCount(datasetSize(ds), { batchSize: 8, dropLast: c.dropLast }), c.sizes.length);
    });
  }

  it("visits every sample once per epoch, with contiguous data matching the view", () => {
    const seen: number[] = [];
    for (const b of batches(ds, { batchSize: 6, seed: 4 })) {
      assert.deepEqual(b.shape, [b.indices.length, 1, 2, 2]);
      b.indices.forEach((i, k) => {
        seen.push(i);
        assert.deepEqual(Array.from(b.x.subarray(k * 4, k * 4 + 4)), Array.from(sampleAt(ds, i)));
        assert.equal(b.labels[k], ds.labels[i]);
      });
    }
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it("is the same for the same seed and epoch, different for another epoch, in order without shuffle", () => {
    const order = (o: { seed?: number; epoch?: number; shuffle?: boolean }): number[] =>
      [...batches(ds, { batchSize: 5, ...o })].flatMap((b) => Array.from(b.indices));
    assert.deepEqual(order({ seed: 9, epoch: 2 }), order({ seed: 9, epoch: 2 }));
    assert.notDeepEqual(order({ seed: 9, epoch: 2 }), order({ seed: 9, epoch: 3 }));
    assert.notDeepEqual(order({ seed: 9, epoch: 2 }), order({ seed: 10, epoch: 2 }));
    assert.deepEqual(
      order({ shuffle: false }),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it("gathers chosen samples into one batch", () => {
    const b = gatherBatch(ds, [0, 19]);
    assert.deepEqual(Array.from(b.x), [...sampleAt(ds, 0), ...sampleAt(ds, 19)]);
  });

  it("batches token-id views into contiguous BigInt64 buffers", () => {
    const ids = createDataset({
      x: BigInt64Array.from({ length: 12 }, (_, i) => BigInt(i)),
      sampleShape: [3],
      labels: Int32Array.of(0, 1, 0, 1),
      classNames: ["a", "b"],
    });
    const [b] = [...batches(subset(ids, [3, 1]), { batchSize: 2, shuffle: false })];
    assert.ok(b!.x instanceof BigInt64Array);
    assert.deepEqual(Array.from(b!.x), [9n, 10n, 11n, 3n, 4n, 5n]);
    assert.deepEqual(b!.shape, [2, 3]);
  });

  it("rejects a batch size of zero", () => {
    assert.throws(() => [...batches(ds, { batchSize: 0 })], { name: "DatasetArgumentError" });
  });
});

describe("normalisation", () => {
  // Two channels with different scales, the second constant in one dataset below.
  function twoChannel(values: number[][]): ReturnType<typeof createDataset<Float32Array>> {
    return createDataset({
      x: Float32Array.from(values.flat()),
      sampleShape: [2, 1, 2],
      labels: new Int32Array(values.length),
      classNames: ["only"],
    });
  }

  it("computes per-channel population mean and std over the view's samples only", () => {
    const ds = twoChannel([
      [1, 3, 10, 30],
      [5, 7, 50, 70],
      [100, 100, 100, 100],
    ]);
    const stats = channelStats(subset(ds, [0, 1]));
    const ch0 = [1, 3, 5, 7];
    const ch1 = [10, 30, 50, 70];
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const std = (v: number[]): number => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
    assert.ok(Math.abs(stats.mean[0]! - mean(ch0)) < 1e-6 && Math.abs(stats.mean[1]! - mean(ch1)) < 1e-5);
    assert.ok(Math.abs(stats.std[0]! - std(ch0)) < 1e-6 && Math.abs(stats.std[1]! - std(ch1)) < 1e-4);
  });

  it("maps the training data to mean 0, std 1 per channel and leaves the input untouched", () => {
    const ds = numberedImages(12, [3, 2, 2]);
    const before = ds.x.slice();
    const norm = normalizeDataset(ds, channelStats(ds));
    assert.deepEqual(ds.x, before);
    const after = channelStats(norm);
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(after.mean[c]!) < 1e-5, `mean ${after.mean[c]}`);
      assert.ok(Math.abs(after.std[c]! - 1) < 1e-5, `std ${after.std[c]}`);
    }
  });

  it("only centres a constant channel instead of dividing by zero", () => {
    const ds = twoChannel([
      [1, 3, 4, 4],
      [5, 7, 4, 4],
    ]);
    const norm = normalizeDataset(ds, channelStats(ds));
    assert.deepEqual(Array.from(norm.x.subarray(2, 4)), [0, 0]);
    assert.ok(norm.x.every(Number.isFinite));
  });

  it("rejects statistics with the wrong number of channels", () => {
    assert.throws(
      () =>
        normalizeDataset(numberedImages(2, [3, 1, 1]), {
          mean: new Float32Array(1),
          std: new Float32Array(1),
        }),
      { name: "DatasetArgumentError" },
    );
  });
});
