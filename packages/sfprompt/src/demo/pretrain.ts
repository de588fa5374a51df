// Pre-trains the demo ViT on Fashion-MNIST with the project's own engine: one gradient model over every
// weight (loss inside the graph), Adam from training/, warm-up + cosine learning rate. Deterministic
// for a recipe up to ONNX Runtime's floating-point reduction order.
import { buildLossGradientModel, GraphSession, type Model, type Tensor } from "@sfprompt/engine";
import { batchCount, batches } from "../datasets/batching.js";
import { datasetSize, type Dataset } from "../datasets/dataset.js";
import { DatasetUnreadableError } from "../datasets/errors.js";
import { fashionMnistProblem, loadFashionMnist } from "../datasets/fashion-mnist.js";
import { gradsFromOutputs } from "../training/grad-outputs.js";
import { top1, accuracy } from "../training/metrics.js";
import { initOptimizerState, optimizerStepInPlace } from "../training/optimizer.js";
import type { ParamSet } from "../training/param-set.js";
import { buildDemoVit, DEMO_INPUT, DEMO_LOGITS } from "./vit-builder.js";
import type { DemoRecipe } from "./recipe.js";

export interface PretrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Steps done over the whole run, and the total. */
  readonly step: number;
  readonly steps: number;
  /** Mean training loss over the last (up to) 50 steps. */
  readonly loss: number;
}

export interface PretrainOptions {
  readonly onProgress?: (p: PretrainProgress) => void;
  readonly signal?: AbortSignal;
  /** Data to use instead of the recipe's Fashion-MNIST subsets (tests pass tiny sets). */
  readonly data?: { readonly train: Dataset<Float32Array>; readonly test: Dataset<Float32Array> };
}

export interface PretrainResult {
  readonly model: Model;
  readonly testAccuracy: number;
  readonly finalLoss: number;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly seconds: number;
}

/** Warm-up over the first 5 % of steps, then cosine decay to 5 % of the peak. */
export function learningRateAt(step: number, steps: number, peak: number): number {
  const warm = Math.max(1, Math.round(steps * 0.05));
  if (step < warm) return (peak * (step + 1)) / warm;
  const t = (step - warm) / Math.max(1, steps - warm);
  return peak * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

function paramsOf(model: Model, names: readonly string[]): ParamSet {
  const out: ParamSet = new Map();
  for (const n of names) {
    const t = model.graph.initializers.get(n) as Tensor;
    out.set(n, { data: Float32Array.from(t.data as Float32Array), shape: [...t.dims] });
  }
  return out;
}

function feedsOf(params: ParamSet): Record<string, Tensor> {
  const f: Record<string, Tensor> = {};
  for (const [n, p] of params) f[n] = { dtype: "float32", dims: [...p.shape], data: p.data };
  return f;
}

/** `model` with its weights replaced by `params` (what gets written to disk). */
export function withWeights(model: Model, params: ParamSet): Model {
  const initializers = new Map(model.graph.initializers);
  for (const [n, p] of params) initializers.set(n, { dtype: "float32", dims: [...p.shape], data: p.data });
  return { ...model, graph: { ...model.graph, initializers } };
}

/**
 * Why pre-training the demo model would stop before its first step for want of its data (every
 * recipe's dataset is Fashion-MNIST; loadData reads its train and test splits): a split not there,
 * in a folder or files this user may not read, or damaged as its IDX headers and sizes show
 * (fashionMnistProblem, the loader's own check); undefined when both are there and whole. Only the
 * headers and the gzip trailers are read.
 */
export function pretrainDataProblem(): Error | undefined {
  try {
    return fashionMnistProblem("train") ?? fashionMnistProblem("test");
  } catch (cause) {
    // another system error opening a file (ELOOP, EIO): the loader throws it as it is (the images end
    // in runtime.failed, a restart may not meet it), but the pre-training would stop on it: said with
    // the file, not as a crash of the check
    const e = cause as NodeJS.ErrnoException;
    if (!(e instanceof Error) || typeof e.code !== "string" || e.path === undefined) throw cause;
    const target = { path: e.path, kind: "file" as const, where: "on this machine", doc: "docs/datasets.md" };
    return new DatasetUnreadableError(
      target,
      `${e.path} cannot be opened (${e.code}: ${e.message}), and the pre-training reads it: check that ` +
        "file (a symbolic link that loops or leads nowhere, a disk error), or copy Fashion-MNIST's files again",
      { cause },
    );
  }
}

async function loadData(
  recipe: DemoRecipe,
): Promise<{ train: Dataset<Float32Array>; test: Dataset<Float32Array> }> {
  const p = recipe.pretraining;
  const train = await loadFashionMnist({ split: "train", limit: p.samples });
  const test = await loadFashionMnist({ split: "test", limit: p.evalSamples });
  return { train, test };
}

/** Top-1 accuracy of `model` on `ds`, in batches of 256. */
export async function evaluateModel(model: Model, ds: Dataset<Float32Array>): Promise<number> {
  const session = await GraphSession.create(model);
  try {
    const preds = new Int32Array(datasetSize(ds));
    let k = 0;
    for (const batch of batches(ds, { batchSize: 256, shuffle: false })) {
      const out = await session.run({
        [DEMO_INPUT]: { dtype: "float32", dims: [...batch.shape], data: batch.x },
      });
      const logits = out[DEMO_LOGITS] as Tensor;
      preds.set(top1({ data: logits.data as Float32Array, shape: logits.dims }), k);
      k += batch.labels.length;
    }
    return accuracy(preds, ds.labels);
  } finally {
    await session.release();
  }
}

/** Builds the demo ViT from `recipe` and pre-trains it; returns the trained model and how it went. */
export async function pretrainDemoModel(
  recipe: DemoRecipe,
  options: PretrainOptions = {},
): Promise<PretrainResult> {
  const started = Date.now();
  const p = recipe.pretraining;
  const data = options.data ?? (await loadData(recipe));
  const built = buildDemoVit(recipe.architecture, p.seed);
  const grad = buildLossGradientModel({
    model: built.model,
    opset: 17,
    logits: DEMO_LOGITS,
    wrt: built.parameters,
  });
  const session = await GraphSession.create(grad);
  const params = paramsOf(built.model, built.parameters);
  const config = { kind: "adam", lr: p.learningRate, weightDecay: 0 } as const;
  const state = initOptimizerState(config, params);
  const perEpoch = batchCount(datasetSize(data.train), { batchSize: p.batchSize, dropLast: true });
  const steps = perEpoch * p.epochs;
  const recent: number[] = [];
  let step = 0;
  try {
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      const opts = { batchSize: p.batchSize, seed: p.seed, epoch, dropLast: true };
      for (const batch of batches(data.train, opts)) {
        options.signal?.throwIfAborted();
        const out = await session.run({
          ...feedsOf(params),
          [DEMO_INPUT]: { dtype: "float32", dims: [...batch.shape], data: batch.x },
          labels: {
            dtype: "int64",
            dims: [batch.labels.length],
            data: BigInt64Array.from(batch.labels, BigInt),
          },
        });
        const lr = learningRateAt(step, steps, p.learningRate);
        optimizerStepInPlace(config, params, gradsFromOutputs(out, params), state, { lr });
        recent.push(Number((out["loss"] as Tensor).data[0]));
        if (recent.length > 50) recent.shift();
        step++;
        const loss = recent.reduce((a, x) => a + x, 0) / recent.length;
        options.onProgress?.({ epoch, epochs: p.epochs, step, steps, loss });
      }
    }
  } finally {
    await session.release();
  }
  const model = withWeights(built.model, params);
  const testAccuracy = await evaluateModel(model, data.test);
  return {
    model,
    testAccuracy,
    finalLoss: recent.reduce((a, x) => a + x, 0) / Math.max(1, recent.length),
    trainSamples: datasetSize(data.train),
    testSamples: datasetSize(data.test),
    seconds: (Date.now() - started) / 1000,
  };
}
