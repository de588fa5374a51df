// One client's work in a round, independent of NATS: phase 1 (local-loss epochs, no traffic), EL2N
// pruning, phase 2 (split training through a BodyLink). SFPrompt, SFL + prompt and FL + prompt all
// run this; the run config's `effective` switches say which phases run.
import type { RunConfig } from "@sfprompt/api";
import type { Tensor } from "@sfprompt/engine";
import type { BundleFlops } from "../bundle/flops.js";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { joinParams, pickParams } from "../bundle/tensors.js";
import { batches } from "../datasets/batching.js";
import { datasetSize, subset, type Dataset } from "../datasets/dataset.js";
import { deriveSeed } from "../datasets/rng.js";
import type { Logger } from "../runtime/logger.js";
import { el2nScores, selectByEl2n } from "../training/el2n.js";
import { optimizerConfigFromSpec, type OptimizerConfig } from "../training/optimizer-config.js";
import { initOptimizerState, optimizerStepInPlace, type OptimizerState } from "../training/optimizer.js";
import { cloneParams, type ParamSet } from "../training/param-set.js";
import type { BodyLink } from "./body-link.js";

export type TrainerState = "local-update" | "pruning" | "split-training";

export interface TrainerContext {
  readonly bundle: PartitionBundle;
  readonly config: RunConfig;
  readonly clientIndex: number;
  readonly data: Dataset;
  readonly body: BodyLink;
  readonly flops: BundleFlops;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Told when a phase starts (the client reports it to the coordinator). */
  readonly onState?: (state: TrainerState) => Promise<void>;
  /** Samples kept by the last pruning pass and its round, for pruning.rescoreEvery > 1. */
  kept?: { round: number; indices: Int32Array };
}

/** What a client uploads after a round, with what it measured. */
export interface RoundUpdate {
  readonly params: ParamSet;
  /** |D_k|, the FedAvg weight. */
  readonly samples: number;
  readonly kept: number;
  /** Mean loss of the split steps (of the local steps when no split step ran). */
  readonly loss: number;
  readonly localLoss: number | undefined;
  readonly flops: number;
}

interface Groups {
  readonly prompt: ParamSet;
  readonly tail: ParamSet;
  readonly optimizer: OptimizerConfig;
  readonly promptState: OptimizerState;
  readonly tailState: OptimizerState;
}

class Meter {
  sum = 0;
  n = 0;
  add(v: number): void {
    this.sum += v;
    this.n += 1;
  }
  get mean(): number | undefined {
    return this.n === 0 ? undefined : this.sum / this.n;
  }
}

/**
 * Runs one round from the global parameters; returns the update to upload. `rounds` is the length of
 * the learning-rate schedule: the server's rounds in a job (they outlive a client's config, ADR 0024).
 */
export async function trainRound(
  ctx: TrainerContext,
  round: number,
  global: ParamSet,
  rounds: number = ctx.config.training.rounds,
): Promise<RoundUpdate> {
  const { bundle, config } = ctx;
  const params = cloneParams(global);
  const prompt = pickParams(params, bundle.promptNames);
  const tail = pickParams(params, bundle.tailNames);
  // FedAvg resets client optimizer state every round (api OptimizerSchema).
  const optimizer = optimizerConfigFromSpec(config.training.optimizer, round, rounds);
  const g: Groups = {
    prompt,
    tail,
    optimizer,
    promptState: initOptimizerState(optimizer, prompt),
    tailState: initOptimizerState(optimizer, tail),
  };
  const flops = { total: 0 };
  const e = config.effective;
  let localLoss: number | undefined;
  if (e.localLoss && config.training.localEpochs > 0) {
    await ctx.onState?.("local-update");
    localLoss = await localEpochs(ctx, round, g, flops);
  }
  let kept: Dataset = ctx.data;
  if (e.pruning) {
    await ctx.onState?.("pruning");
    kept = await prune(ctx, round, joinParams(g.prompt, g.tail), flops);
  }
  await ctx.onState?.("split-training");
  const split = await splitEpochs(ctx, round, g, kept, flops);
  const out = joinParams(g.prompt, g.tail);
  ctx.logger.log("info", "round-trained", {
    round,
    rounds,
    learningRate: optimizer.lr,
    kept: datasetSize(kept),
    loss: split ?? localLoss,
    localLoss,
  });
  return {
    params: pickParams(out, [...global.keys()]),
    samples: datasetSize(ctx.data),
    kept: datasetSize(kept),
    loss: split ?? localLoss ?? 0,
    localLoss,
    flops: flops.total,
  };
}

function batchSeed(ctx: TrainerContext, round: number, phase: number): number {
  return deriveSeed(ctx.config.training.seed, ctx.clientIndex, round, phase);
}

async function localEpochs(
  ctx: TrainerContext,
  round: number,
  g: Groups,
  flops: { total: number },
): Promise<number | undefined> {
  const { bundle } = ctx;
  const meter = new Meter();
  for (let epoch = 0; epoch < ctx.config.training.localEpochs; epoch++) {
    for (const batch of batches(ctx.data, {
      batchSize: ctx.config.training.batchSize,
      seed: batchSeed(ctx, round, 1),
      epoch,
    })) {
      ctx.signal?.throwIfAborted();
      const step = await bundle.localStep(bundle.inputsOf(batch), batch.labels, joinParams(g.prompt, g.tail));
      optimizerStepInPlace(g.optimizer, g.prompt, pickParams(step.grads, bundle.promptNames), g.promptState);
      optimizerStepInPlace(g.optimizer, g.tail, pickParams(step.grads, bundle.tailNames), g.tailState);
      meter.add(step.loss);
      flops.total += ctx.flops.localStep * batch.labels.length;
    }
  }
  return meter.mean;
}

/** EL2N scores of every local sample on the local path, then the hardest ⌈(1−γ)·N⌉ are kept. */
async function prune(
  ctx: TrainerContext,
  round: number,
  params: ParamSet,
  flops: { total: number },
): Promise<Dataset> {
  const { bundle, config } = ctx;
  const every = config.training.pruning.rescoreEvery;
  if (ctx.kept !== undefined && round - ctx.kept.round < every) return subset(ctx.data, ctx.kept.indices);
  const n = datasetSize(ctx.data);
  const scores = new Float64Array(n);
  const labels = new Int32Array(n);
  let at = 0;
  for (const batch of batches(ctx.data, { batchSize: config.training.batchSize, shuffle: false })) {
    ctx.signal?.throwIfAborted();
    const logits = await bundle.localLogits(bundle.inputsOf(batch), params);
    scores.set(el2nScores({ data: logits.data, shape: logits.dims }, batch.labels), at);
    labels.set(batch.labels, at);
    at += batch.labels.length;
    flops.total += ctx.flops.localForward * batch.labels.length;
  }
  const sel = selectByEl2n(scores, {
    gamma: config.training.pruning.gamma,
    batchSize: config.training.batchSize,
    ...(config.training.pruning.balance === "per-class" ? { labels } : {}),
  });
  ctx.kept = { round, indices: sel.kept };
  ctx.logger.log("info", "pruned", { round, kept: sel.kept.length, of: n, threshold: sel.threshold });
  return subset(ctx.data, sel.kept);
}

async function splitEpochs(
  ctx: TrainerContext,
  round: number,
  g: Groups,
  data: Dataset,
  flops: { total: number },
): Promise<number | undefined> {
  const { bundle, config, body } = ctx;
  const promptOverNetwork = config.effective.promptGradientOverNetwork || body.local;
  const meter = new Meter();
  for (let epoch = 0; epoch < config.training.splitEpochs; epoch++) {
    for (const batch of batches(data, {
      batchSize: config.training.batchSize,
      seed: batchSeed(ctx, round, 2),
      epoch,
    })) {
      ctx.signal?.throwIfAborted();
      const x = bundle.inputsOf(batch);
      const b = batch.labels.length;
      const headOut: Tensor = await bundle.headForward(x, g.prompt);
      const { output, handle } = await body.forward(round, headOut, bundle.masksOf(x));
      const tail = await bundle.tailStep(output, batch.labels, g.tail);
      optimizerStepInPlace(g.optimizer, g.tail, tail.grads, g.tailState);
      meter.add(tail.loss);
      flops.total += (ctx.flops.headForward + ctx.flops.tailStep) * b;
      if (body.local) flops.total += ctx.flops.bodyForward * b;
      if (!promptOverNetwork || bundle.promptNames.length === 0) continue;
      const gradHead = await body.backward(handle, tail.gradInput);
      const gradPrompt = await bundle.headBackward(x, g.prompt, gradHead);
      optimizerStepInPlace(g.optimizer, g.prompt, gradPrompt, g.promptState);
      flops.total += ctx.flops.headBackward * b;
      if (body.local) flops.total += ctx.flops.bodyBackward * b;
    }
  }
  return meter.mean;
}
