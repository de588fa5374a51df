// Centralised prompt tuning: one process holds all the data and the whole model and trains prompt +
// tail, round after round, with the same trainer and evaluation as the federated methods; no traffic.
import type { RunConfig } from "@sfprompt/api";
import { bundleFlops } from "../bundle/flops.js";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { joinParams } from "../bundle/tensors.js";
import { datasetSize, type Dataset } from "../datasets/dataset.js";
import { localBody } from "../client/body-link.js";
import { trainRound } from "../client/trainer.js";
import type { Logger } from "../runtime/logger.js";
import type { RoundMetrics } from "../server/checkpoints.js";
import { evaluateSplit, evaluationSubset } from "../server/evaluate.js";
import type { ParamSet } from "../training/param-set.js";

export interface CentralizedOptions {
  readonly bundle: PartitionBundle;
  readonly train: Dataset;
  readonly eval?: Dataset;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly onRound?: (m: RoundMetrics) => void;
}

/** Runs training.rounds rounds of prompt + tail tuning on all the data. */
export async function runCentralized(
  config: RunConfig,
  o: CentralizedOptions,
): Promise<{ rounds: RoundMetrics[]; global: ParamSet }> {
  const { bundle } = o;
  const init = bundle.initialParams();
  let global = joinParams(init.prompt, init.tail);
  const flops = bundleFlops(bundle);
  const evalSet =
    o.eval && evaluationSubset(o.eval, config.training.evaluation.maxSamples, config.training.seed);
  const ctx = {
    bundle,
    config,
    clientIndex: 0,
    data: o.train,
    body: localBody(bundle),
    flops,
    logger: o.logger,
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const rounds: RoundMetrics[] = [];
  for (let round = 1; round <= config.training.rounds; round++) {
    const started = Date.now();
    const update = await trainRound(ctx, round, global);
    global = update.params;
    const ev = evalSet ? await evaluateSplit(bundle, global, evalSet, config.training.batchSize) : undefined;
    const m: RoundMetrics = {
      round,
      loss: update.loss,
      accuracy: ev?.accuracy ?? null,
      evalLoss: ev?.loss ?? null,
      participants: ["centralized"],
      selected: ["centralized"],
      samples: datasetSize(o.train),
      kept: update.kept,
      bytes: { up: 0, down: 0, byKind: {} },
      clientFlops: update.flops,
      durationMs: Date.now() - started,
    };
    rounds.push(m);
    o.onRound?.(m);
  }
  return { rounds, global };
}
