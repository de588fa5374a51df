// The demo ViT: built in code, found by the splitter as a timm export, pre-trained by our engine until
// it beats chance, cached by recipe hash with a card, and reused (not retrained) on the second call.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readModel, splitModel } from "@sfprompt/engine";
import {
  buildDemoVit,
  CARD_FILE,
  checkArchitecture,
  DEMO_RECIPE,
  demoModelDir,
  DemoRecipeError,
  ensureDemoModel,
  evaluateModel,
  learningRateAt,
  loadFashionMnist,
  recipeHash,
  type DemoRecipe,
} from "@sfprompt/core";

const TINY: DemoRecipe = {
  ...DEMO_RECIPE,
  architecture: { image: 28, patch: 7, width: 16, depth: 2, heads: 2, mlpRatio: 2, classes: 10 },
  pretraining: {
    ...DEMO_RECIPE.pretraining,
    samples: 640,
    epochs: 2,
    batchSize: 32,
    learningRate: 3e-3,
    evalSamples: 300,
  },
};

describe("demo ViT", () => {
  it("is split by the splitter as a timm export with one head block", () => {
    const { model } = buildDemoVit(DEMO_RECIPE.architecture, 1);
    const s = splitModel(model, { headBlocks: 1, promptLength: 4, numClasses: 10 });
    assert.equal(s.cuts.blocks?.family, "timm");
    assert.equal(s.cuts.blocks?.count, DEMO_RECIPE.architecture.depth);
    assert.deepEqual(
      s.parameters.map((p) => p.name),
      ["prompt", "norm.weight", "norm.bias", "head.weight", "head.bias"],
    );
  });

  const bad: Array<[string, Partial<DemoRecipe["architecture"]>, string]> = [
    ["a patch that does not divide the image", { patch: 5 }, "patch"],
    ["heads that do not divide the width", { heads: 3 }, "heads"],
    ["zero blocks", { depth: 0 }, "depth"],
  ];
  for (const [name, change, field] of bad) {
    it(`refuses ${name}, naming ${field}`, () => {
      assert.throws(
        () => checkArchitecture({ ...DEMO_RECIPE.architecture, ...change }),
        (e: unknown) => e instanceof DemoRecipeError && e.field === field,
      );
    });
  }

  it("has a learning rate that warms up, peaks and decays", () => {
    const lrs = Array.from({ length: 100 }, (_, i) => learningRateAt(i, 100, 1));
    assert.ok((lrs[0] as number) < (lrs[4] as number));
    assert.equal(Math.max(...lrs), 1);
    assert.ok((lrs[99] as number) < 0.1 && (lrs[99] as number) >= 0.05);
  });

  it("changes its cache folder when any recipe field changes", () => {
    const other = { ...TINY, pretraining: { ...TINY.pretraining, seed: 8 } };
    assert.notEqual(recipeHash(TINY), recipeHash(other));
    assert.equal(recipeHash(TINY), recipeHash(JSON.parse(JSON.stringify(TINY)) as DemoRecipe));
  });
});

describe("ensureDemoModel", () => {
  it("pre-trains above chance, writes model + card, and reuses the cache the second time", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "demo-cache-"));
    const steps: number[] = [];
    const first = await ensureDemoModel({ recipe: TINY, cacheDir, onProgress: (p) => steps.push(p.step) });
    assert.equal(first.built, true);
    assert.equal(first.path, join(demoModelDir(TINY, cacheDir), "model.onnx"));
    assert.equal(steps.length, 40); // 640 / 32 × 2 epochs
    const card = JSON.parse(readFileSync(join(demoModelDir(TINY, cacheDir), CARD_FILE), "utf8"));
    assert.equal(card.hash, recipeHash(TINY));
    assert.match(card.provenance, /sfprompt project itself/);
    assert.equal(card.data.trainSamples, 640);
    // The card's accuracy is the saved model's accuracy on the same held-out samples.
    const test = await loadFashionMnist({ split: "test", limit: 300 });
    const measured = await evaluateModel(readModel(first.path), test);
    assert.equal(card.testAccuracy, measured);
    assert.ok(measured > 0.3, `accuracy ${measured} should beat chance (0.1) clearly`);
    const second = await ensureDemoModel({
      recipe: TINY,
      cacheDir,
      onProgress: () => assert.fail("retrained"),
    });
    assert.equal(second.built, false);
    assert.deepEqual(second.card, card);
    assert.equal(existsSync(`${demoModelDir(TINY, cacheDir)}.lock`), false);
  });
});
