// Prepares a partition bundle of the tiny ViT in a temporary directory (once per test process) and
// small Fashion-MNIST subsets for the runtime tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareBundle, writeModel, type Model } from "@sfprompt/engine";
import { loadFashionMnist, type Dataset } from "@sfprompt/core";
import { tinyVit } from "./tiny-vit.js";

export interface BundleFixture {
  readonly dir: string;
  readonly model: Model;
  remove(): void;
}

/**
 * Splits the tiny ViT (K head blocks, P prompt tokens, 10 classes) and writes its bundle;
 * `externalDataAbove` (bytes) sends the weights of graphs past it to external data files.
 */
export function tinyBundle(
  options: { headBlocks?: number; promptLength?: number; externalDataAbove?: number } = {},
): BundleFixture {
  const model = tinyVit();
  const dir = mkdtempSync(join(tmpdir(), "sfprompt-bundle-"));
  const split = {
    headBlocks: options.headBlocks ?? 1,
    promptLength: options.promptLength ?? 4,
    numClasses: 10,
    seed: 3,
  };
  const source = join(dir, "tiny-vit.onnx");
  writeModel(source, model);
  const external = options.externalDataAbove;
  prepareBundle({
    model: source,
    out: join(dir, "bundle"),
    ...split,
    ...(external !== undefined ? { externalDataAbove: external } : {}),
  });
  return { dir: join(dir, "bundle"), model, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let cached: Promise<{ train: Dataset<Float32Array>; test: Dataset<Float32Array> }> | undefined;

/** Balanced Fashion-MNIST subsets: `perClass` train and 30 test images per class. */
export function fashionSubsets(
  perClass = 40,
): Promise<{ train: Dataset<Float32Array>; test: Dataset<Float32Array> }> {
  cached ??= (async () => ({
    train: await loadFashionMnist({ split: "train", perClass }),
    test: await loadFashionMnist({ split: "test", perClass: 30 }),
  }))();
  return cached;
}
