// bundleFlops, graphFileFlops and initialParams read the bundle's graphs without their weights (readModelOutline,
// ADR 0006 amendment 8): on real bundles (the demo ViT, the tiny ViT with every graph's weights in
// external data files, the BERT text fixture) they give what reading every graph whole gives.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  externalDataFiles,
  prepareBundle,
  readModel,
  readPartitionManifest,
  writeModel,
} from "@sfprompt/engine";
import {
  buildDemoVit,
  bundleFlops,
  DEMO_RECIPE,
  graphFileFlops,
  PartitionBundle,
  perSampleFlops,
} from "@sfprompt/core";
import { tinyBundle, type BundleFixture } from "./bundle-fixture.js";
import { BERT_FIXTURE } from "./text-fixture.js";

let root: string;
let external: BundleFixture;
const bundles: Array<{ name: string; dir: string; sequenceLength?: number }> = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), "sfprompt-outline-"));
  const demo = join(root, "demo.onnx");
  writeModel(demo, buildDemoVit(DEMO_RECIPE.architecture, 1).model);
  prepareBundle({
    model: demo,
    out: join(root, "demo"),
    headBlocks: 1,
    promptLength: 4,
    numClasses: 10,
    seed: 1,
  });
  bundles.push({ name: "demo ViT", dir: join(root, "demo") });
  external = tinyBundle({ externalDataAbove: 0 });
  bundles.push({ name: "tiny ViT, external data", dir: external.dir });
  prepareBundle({
    model: BERT_FIXTURE,
    out: join(root, "bert"),
    headBlocks: 1,
    promptLength: 3,
    pooling: "mean",
    numClasses: 3,
    seed: 1,
  });
  bundles.push({ name: "BERT text fixture", dir: join(root, "bert"), sequenceLength: 8 });
});
after(() => {
  external?.remove();
  rmSync(root, { recursive: true, force: true });
});

/** Every graph file of a bundle's manifest. */
function graphFiles(dir: string): string[] {
  const m = readPartitionManifest(dir);
  return [
    ...m.partitions.map((p) => p.file),
    ...(m.gradients.head === null ? [] : [m.gradients.head.file]),
    m.gradients.body.recompute.file,
    m.gradients.tail.file,
    m.local.file,
    m.gradients.local.file,
  ];
}

test("the external data bundle keeps its graphs' weights in data files", () => {
  const withData = graphFiles(external.dir).filter(
    (f) => externalDataFiles(join(external.dir, f)).length > 0,
  );
  assert.ok(withData.length >= 4, `graphs with external data: ${withData.join(", ")}`);
});

test("bundleFlops gives, graph by graph, the FLOPs of the graphs read whole", async () => {
  for (const { name, dir, sequenceLength } of bundles) {
    const b = PartitionBundle.load(dir, sequenceLength === undefined ? {} : { sequenceLength });
    try {
      const m = b.manifest;
      const whole = (file: string): number => perSampleFlops(readModel(join(dir, file)), b.symbolicDims());
      const part = (p: string): number => whole(m.partitions.find((x) => x.name === p)!.file);
      const expected = {
        headForward: part("head"),
        headBackward: m.gradients.head === null ? 0 : whole(m.gradients.head.file),
        bodyForward: part("body"),
        bodyBackward: whole(m.gradients.body.recompute.file),
        tailStep: whole(m.gradients.tail.file),
        tailForward: part("tail"),
        localForward: whole(m.local.file),
        localStep: whole(m.gradients.local.file),
        wholeForward: part("head") + part("body") + part("tail"),
      };
      assert.ok(expected.bodyForward > 0 && expected.tailStep > 0, name);
      assert.deepEqual(bundleFlops(b), expected, name);
      // the one-graph form sfprompt run's FLOPs share (cli flops-share) sums over the partitions
      for (const file of graphFiles(dir))
        assert.equal(graphFileFlops(b, file), whole(file), `${name}: ${file}`);
    } finally {
      await b.release();
    }
  }
});

test("initialParams gives the stored values readModel reads", async () => {
  for (const { name, dir, sequenceLength } of bundles) {
    const b = PartitionBundle.load(dir, sequenceLength === undefined ? {} : { sequenceLength });
    try {
      const { prompt, tail } = b.initialParams();
      const m = b.manifest;
      for (const [partition, params] of [
        ["head", prompt],
        ["tail", tail],
      ] as const) {
        const file = m.partitions.find((p) => p.name === partition)!.file;
        const inits = readModel(join(dir, file)).graph.initializers;
        assert.ok(params.size > 0, `${name}: ${partition}`);
        for (const [n, v] of params) {
          const t = inits.get(n)!;
          assert.deepEqual([...v.shape], [...t.dims], `${name}: ${n}`);
          assert.deepEqual(v.data, t.data, `${name}: ${n}`);
        }
      }
    } finally {
      await b.release();
    }
  }
});
