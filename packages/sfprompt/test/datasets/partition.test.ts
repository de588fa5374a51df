// Partitioning across clients on the real Fashion-MNIST test labels: disjoint covers, seeds,
// minimum sizes, label skew that grows as α shrinks, held-out splits and the summary.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type PartitionSpec,
  fashionMnistFiles,
  formatPartitionSummary,
  holdOut,
  holdOutIndices,
  clientShard,
  JobPartitionError,
  labelEntropy,
  partitionForJob,
  partitionDataset,
  partitionDirichlet,
  partitionIndices,
  partitionIid,
  PartitionError,
  readIdxFile,
  sampleAt,
  summarizePartition,
} from "@sfprompt/core";
import { PartitioningSchema } from "@sfprompt/api";
import { numberedImages } from "./fixtures.js";

const CLASSES = 10;
let labels = new Int32Array(0);

before(async () => {
  labels = Int32Array.from((await readIdxFile(fashionMnistFiles("test").labels)).data);
});

// A stand-in dataset over the real labels (the partition only reads labels and the class count).
function labelled(): Parameters<typeof partitionIndices>[0] {
  return {
    x: new Float32Array(labels.length),
    sampleShape: [1],
    rows: null,
    labels,
    classNames: new Array(CLASSES).fill("c"),
  };
}

function assertDisjointCover(parts: Int32Array[], n: number): void {
  const all = parts.flatMap((p) => Array.from(p)).sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: n }, (_, i) => i),
  );
  for (const p of parts) for (let i = 1; i < p.length; i++) assert.ok(p[i - 1]! < p[i]!, "indices ascending");
}

describe("partitions", () => {
  const specs: Array<{ name: string; spec: PartitionSpec; clients: number; min: number }> = [
    { name: "IID over 8 clients", spec: { kind: "iid" }, clients: 8, min: 1250 },
    { name: "Dirichlet α=0.1 over 8 clients", spec: { kind: "dirichlet", alpha: 0.1 }, clients: 8, min: 10 },
    {
      name: "Dirichlet α=0.5 over 20 clients, minSize 50",
      spec: { kind: "dirichlet", alpha: 0.5, minSize: 50 },
      clients: 20,
      min: 50,
    },
    { name: "Dirichlet α=100 over 3 clients", spec: { kind: "dirichlet", alpha: 100 }, clients: 3, min: 10 },
  ];
  for (const c of specs) {
    it(`${c.name}: disjoint, covering, every client at least ${c.min} samples, reproducible`, () => {
      const parts = partitionIndices(labelled(), c.spec, { clients: c.clients, seed: 7 });
      assert.equal(parts.length, c.clients);
      assertDisjointCover(parts, labels.length);
      assert.ok(Math.min(...parts.map((p) => p.length)) >= c.min);
      assert.deepEqual(partitionIndices(labelled(), c.spec, { clients: c.clients, seed: 7 }), parts);
      assert.notDeepEqual(partitionIndices(labelled(), c.spec, { clients: c.clients, seed: 8 }), parts);
    });
  }

  it("IID shards differ in size by at most one", () => {
    const sizes = partitionIid(103, { clients: 10, seed: 1 }).map((p) => p.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      103,
    );
  });

  it("skews labels more as α shrinks (mean client label entropy over five seeds)", () => {
    const meanEntropy = (alpha: number): number => {
      let total = 0;
      for (let seed = 0; seed < 5; seed++) {
        const parts = partitionDirichlet(labels, CLASSES, { alpha }, { clients: 8, seed });
        total += summarizePartition(labels, parts, new Array(CLASSES).fill("c")).meanEntropy;
      }
      return total / 5;
    };
    const iid = summarizePartition(
      labels,
      partitionIid(labels.length, { clients: 8, seed: 0 }),
      new Array(CLASSES).fill("c"),
    );
    const h = [100, 1, 0.1].map(meanEntropy);
    assert.ok(iid.meanEntropy > h[0]! - 0.01, `IID ${iid.meanEntropy} vs α=100 ${h[0]}`);
    assert.ok(h[0]! > h[1]! && h[1]! > h[2]!, `entropies for α = 100, 1, 0.1: ${h.join(", ")}`);
    // log2(10) ≈ 3.32 bits is a uniform class mix; α=0.1 leaves clients with a few classes.
    assert.ok(h[0]! > 3.2 && h[2]! < 2, `entropies ${h.join(", ")}`);
  });

  const failures = [
    {
      name: "more clients than samples",
      run: () => partitionIid(3, { clients: 4, seed: 0 }),
      error: "PartitionError",
    },
    {
      name: "minSize × clients above the sample count",
      run: () =>
        partitionDirichlet(
          labels.subarray(0, 100),
          CLASSES,
          { alpha: 1, minSize: 20 },
          { clients: 8, seed: 0 },
        ),
      error: "PartitionError",
    },
    {
      name: "draws that never satisfy minSize",
      run: () =>
        partitionDirichlet(
          labels.subarray(0, 400),
          CLASSES,
          { alpha: 0.01, minSize: 45, balance: false, maxTries: 3 },
          { clients: 8, seed: 0 },
        ),
      error: "PartitionError",
    },
    {
      name: "a non-positive α",
      run: () => partitionDirichlet(labels, CLASSES, { alpha: 0 }, { clients: 8, seed: 0 }),
      error: "DatasetArgumentError",
    },
    {
      name: "zero clients",
      run: () => partitionIid(10, { clients: 0, seed: 0 }),
      error: "DatasetArgumentError",
    },
  ];
  for (const c of failures) {
    it(`fails with ${c.error} for ${c.name}`, () => assert.throws(c.run, { name: c.error }));
  }

  it("returns per-client views over the same buffer", () => {
    const ds = numberedImages(40, [1, 1, 2], 4);
    const views = partitionDataset(
      ds,
      { kind: "dirichlet", alpha: 0.5, minSize: 2 },
      { clients: 4, seed: 3 },
    );
    const indices = partitionIndices(
      ds,
      { kind: "dirichlet", alpha: 0.5, minSize: 2 },
      { clients: 4, seed: 3 },
    );
    views.forEach((v, c) => {
      assert.equal(v.x, ds.x);
      indices[c]!.forEach((i, k) => {
        assert.equal(v.labels[k], ds.labels[i]);
        assert.deepEqual(sampleAt(v, k), sampleAt(ds, i));
      });
    });
  });
});

describe("held-out split", () => {
  it("holds out the same fraction of every class, disjoint from training, reproducibly", () => {
    const split = holdOutIndices(labels, CLASSES, { fraction: 0.15, seed: 2 });
    assertDisjointCover([Int32Array.from([...split.train, ...split.eval]).sort()], labels.length);
    const perClass = new Array<number>(CLASSES).fill(0);
    for (const i of split.eval) perClass[labels[i]!]! += 1;
    assert.deepEqual(perClass, new Array(CLASSES).fill(150));
    assert.deepEqual(holdOutIndices(labels, CLASSES, { fraction: 0.15, seed: 2 }), split);
  });

  it("splits a dataset into train and eval views without stratifying when asked", () => {
    const ds = numberedImages(50, [1, 1, 1], 5);
    const { train, eval: test } = holdOut(ds, { fraction: 0.2, seed: 1, stratified: false });
    assert.equal(test.labels.length, 10);
    assert.equal(train.labels.length, 40);
    assert.equal(train.x, ds.x);
  });

  it("rejects a fraction of 1", () => {
    assert.throws(() => holdOutIndices(labels, CLASSES, { fraction: 1, seed: 0 }), {
      name: "DatasetArgumentError",
    });
  });
});

describe("summary", () => {
  it("counts each client's classes and entropy and prints one row per client", () => {
    const y = Int32Array.of(0, 0, 1, 2, 2, 2);
    const summary = summarizePartition(y, [Int32Array.of(0, 1), Int32Array.of(2, 3, 4, 5)], ["a", "b", "c"]);
    assert.deepEqual(
      summary.clients.map((c) => c.histogram),
      [
        [2, 0, 0],
        [0, 1, 3],
      ],
    );
    assert.equal(summary.clients[0]!.entropy, 0);
    assert.equal(summary.clients[1]!.entropy, labelEntropy([1, 3]));
    assert.ok(Math.abs(labelEntropy([1, 3]) - (-(0.25 * Math.log2(0.25)) - 0.75 * Math.log2(0.75))) < 1e-12);
    assert.deepEqual([summary.total, summary.minSize, summary.maxSize], [6, 2, 4]);
    const table = formatPartitionSummary(summary).split("\n");
    assert.equal(table.length, 4);
    assert.match(table[2]!, /^\s+1\s+0\s+1\s+3\s+4\s+0\.81$/);
    assert.match(table[3]!, /c0=a, c1=b, c2=c/);
  });
});

describe("partitionForJob", () => {
  const ds = numberedImages(200, [1, 1, 1], 5);
  const cases = [
    { name: "a defaulted spec (IID) splits evenly", spec: {}, sizes: [50, 50, 50, 50] },
    {
      name: "samplesPerClient caps every shard",
      spec: { strategy: "dirichlet", alpha: 1, samplesPerClient: 20 },
      sizes: [20, 20, 20, 20],
    },
    {
      name: "strategy none gives each client everything",
      spec: { strategy: "none" },
      sizes: [200, 200, 200, 200],
    },
  ];
  for (const c of cases) {
    it(`${c.name}, from the API's own parsed spec`, () => {
      const views = partitionForJob(ds, PartitioningSchema.parse(c.spec), 4);
      assert.deepEqual(
        views.map((v) => v.labels.length),
        c.sizes,
      );
    });
  }

  // what the user can change is the job's fields; minSize and maxTries are not among them
  const refusals = [
    {
      name: "more clients than samples (IID)",
      spec: { strategy: "iid" },
      clients: 201,
      field: "spec.clients.count",
      match:
        /^spec\.clients\.count: is 201, but the training data \(spec\.data\.source\) holds 200 samples: every client needs one at least; set spec\.clients\.count to 200 or less/,
    },
    {
      name: "fewer samples than Dirichlet's 10 per client",
      spec: { strategy: "dirichlet", alpha: 1 },
      clients: 21,
      field: "spec.clients.count",
      match:
        /^spec\.clients\.count: is 21, .* fewer than 10 × 21; set spec\.clients\.count to 20 or less, or use strategy iid$/,
    },
    {
      name: "Dirichlet draws that always leave a client short (α tiny, 10 per client exactly)",
      spec: { strategy: "dirichlet", alpha: 0.001 },
      clients: 20,
      field: "spec.data.partitioning.alpha",
      match:
        /^spec\.data\.partitioning\.alpha: is 0\.001: in 1000 Dirichlet draws over 20 clients one client always got fewer than 10 samples .*; raise spec\.data\.partitioning\.alpha, lower spec\.clients\.count, or use strategy iid$/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} with JobPartitionError naming ${c.field}`, () => {
      assert.throws(
        () => partitionForJob(ds, PartitioningSchema.parse(c.spec), c.clients),
        (e: unknown) => {
          assert.ok(e instanceof JobPartitionError, String(e));
          assert.equal(e.field, c.field);
          assert.match(e.message, c.match);
          assert.ok(e.cause instanceof PartitionError, "the partition's own error is its cause");
          return true;
        },
      );
    });
  }

  it("gives one client the same view as the full partition, within its uncapped shard", () => {
    const p = PartitioningSchema.parse({ strategy: "dirichlet", alpha: 0.3, seed: 9, samplesPerClient: 15 });
    const uncapped = partitionIndices(ds, { kind: "dirichlet", alpha: 0.3 }, { clients: 4, seed: 9 });
    const mine = clientShard(ds, p, 4, 2);
    assert.deepEqual(mine.rows, partitionForJob(ds, p, 4)[2]!.rows);
    const shard = new Set(uncapped[2]);
    assert.ok(Array.from(mine.rows ?? []).every((r) => shard.has(r)));
    assert.throws(() => clientShard(ds, p, 4, 4), { name: "DatasetArgumentError" });
  });
});
