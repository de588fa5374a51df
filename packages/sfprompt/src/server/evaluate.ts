// Evaluation of global parameters on the held-out set through the full path (head → body → tail),
// or through any logits function (the whole-model baselines).
import type { Tensor } from "@sfprompt/engine";
import type { PartitionBundle, ModelInputs } from "../bundle/partition-bundle.js";
import { pickParams } from "../bundle/tensors.js";
import { batches } from "../datasets/batching.js";
import { datasetSize, subset, type Dataset } from "../datasets/dataset.js";
import { Rng, deriveSeed } from "../datasets/rng.js";
import { softmaxCrossEntropy } from "../training/cross-entropy.js";
import { top1 } from "../training/metrics.js";
import type { ParamSet } from "../training/param-set.js";

export interface Evaluation {
  readonly accuracy: number;
  readonly loss: number;
  readonly samples: number;
}

/** A fixed, seeded subset of at most `max` samples (all when max is undefined or larger). */
export function evaluationSubset(ds: Dataset, max: number | undefined, seed: number): Dataset {
  const n = datasetSize(ds);
  if (max === undefined || max >= n) return ds;
  const idx = new Rng(deriveSeed(seed, 0x6576616c)).permutation(n).subarray(0, max).sort();
  return subset(ds, idx);
}

/** Accuracy and mean loss of `logitsOf` over `ds`. */
export async function evaluateWith(
  ds: Dataset,
  batchSize: number,
  bundle: PartitionBundle,
  logitsOf: (x: ModelInputs) => Promise<Tensor & { data: Float32Array }>,
): Promise<Evaluation> {
  let hits = 0;
  let lossSum = 0;
  let n = 0;
  for (const batch of batches(ds, { batchSize, shuffle: false })) {
    const logits = await logitsOf(bundle.inputsOf(batch));
    const m = { data: logits.data, shape: logits.dims };
    const pred = top1(m);
    for (let i = 0; i < pred.length; i++) if (pred[i] === batch.labels[i]) hits++;
    lossSum += softmaxCrossEntropy(m, batch.labels).loss * batch.labels.length;
    n += batch.labels.length;
  }
  return { accuracy: n === 0 ? 0 : hits / n, loss: n === 0 ? 0 : lossSum / n, samples: n };
}

/** Evaluates prompt + tail on the split path head → body → tail. */
export function evaluateSplit(
  bundle: PartitionBundle,
  global: ParamSet,
  ds: Dataset,
  batchSize: number,
): Promise<Evaluation> {
  const prompt = pickParams(global, bundle.promptNames);
  const tail = pickParams(global, bundle.tailNames);
  return evaluateWith(ds, batchSize, bundle, (x) => bundle.predict(x, prompt, tail));
}
