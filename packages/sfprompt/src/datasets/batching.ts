// Mini-batches as contiguous tensors: a deterministic (seeded, per-epoch) sample order, and
// gathering of the chosen samples into one [B, ...sampleShape] buffer.

import { type Dataset, type FeatureArray, datasetSize, gatherRows } from "./dataset.js";
import { DatasetArgumentError } from "./errors.js";
import { Rng, deriveSeed } from "./rng.js";

/** One mini-batch: samples copied into a contiguous buffer of shape `shape`. */
export interface DataBatch<X extends FeatureArray = FeatureArray> {
  readonly x: X;
  readonly shape: readonly number[];
  readonly labels: Int32Array;
  /** Logical indices of the samples in the dataset the batch was drawn from. */
  readonly indices: Int32Array;
}

export interface BatchOptions {
  batchSize: number;
  /** Shuffle with `seed` and `epoch` (default true); false keeps dataset order. */
  shuffle?: boolean;
  seed?: number;
  /** Mixed into the seed so that each epoch has its own, reproducible order. */
  epoch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
}

// Tag so that batch orders never share a random stream with partitions drawn from the same seed.
const BATCH_STREAM = 0x62617463;

/** The order in which an epoch visits the samples: identity, or a seeded permutation. */
export function sampleOrder(n: number, options: Omit<BatchOptions, "batchSize" | "dropLast">): Int32Array {
  if (options.shuffle === false) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(deriveSeed(options.seed ?? 0, BATCH_STREAM, options.epoch ?? 0));
  return rng.permutation(n);
}

/** Number of batches an epoch yields. */
export function batchCount(n: number, options: Pick<BatchOptions, "batchSize" | "dropLast">): number {
  checkBatchSize(options.batchSize);
  return options.dropLast ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new DatasetArgumentError("batchSize", `must be a positive integer, got ${batchSize}`);
  }
}

/** Copies the samples at `indices` into one batch. */
export function gatherBatch<X extends FeatureArray>(
  ds: Dataset<X>,
  indices: ArrayLike<number>,
): DataBatch<X> {
  const idx = Int32Array.from(indices);
  const labels = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) labels[k] = ds.labels[idx[k] as number] as number;
  return { x: gatherRows(ds, idx), shape: [idx.length, ...ds.sampleShape], labels, indices: idx };
}

/** The batches of one epoch, in a deterministic order for a given seed and epoch. */
export function* batches<X extends FeatureArray>(
  ds: Dataset<X>,
  options: BatchOptions,
): Generator<DataBatch<X>> {
  const count = batchCount(datasetSize(ds), options);
  const order = sampleOrder(datasetSize(ds), options);
  for (let b = 0; b < count; b++) {
    yield gatherBatch(ds, order.subarray(b * options.batchSize, (b + 1) * options.batchSize));
  }
}
