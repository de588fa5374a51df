// FL full fine-tuning: every client trains all weights of the whole model on all its data, and the
// server averages all of them (FedAvg). Uses the same coordinator, uploads and evaluation plumbing.
import { batches } from "../datasets/batching.js";
import { datasetSize, type Dataset } from "../datasets/dataset.js";
import { deriveSeed } from "../datasets/rng.js";
import type { ClientContext, RoundTrainer } from "../client/client.js";
import type { GlobalModel } from "../server/server.js";
import { evaluateWith, type Evaluation } from "../server/evaluate.js";
import { optimizerConfigFromSpec } from "../training/optimizer-config.js";
import { initOptimizerState, optimizerStepInPlace } from "../training/optimizer.js";
import { cloneParams, type ParamSet } from "../training/param-set.js";
import type { PartitionBundle } from "../bundle/partition-bundle.js";
import { WholeModelRunner, type WholeModel } from "./whole-model.js";

/** The client side: splitEpochs epochs over all local data, all weights updated. */
export function wholeModelTrainer(model: WholeModel): (ctx: ClientContext) => RoundTrainer {
  return (ctx) => {
    let runner: Promise<WholeModelRunner> | undefined;
    const train: RoundTrainer = async (round, global, rounds) => {
      runner ??= WholeModelRunner.create(model);
      const r = await runner;
      const params = cloneParams(global);
      // `rounds` is the server's: a running client's config may predate a rounds edit (ADR 0024)
      const optimizer = optimizerConfigFromSpec(ctx.config.training.optimizer, round, rounds);
      const state = initOptimizerState(optimizer, params);
      let lossSum = 0;
      let steps = 0;
      let flops = 0;
      await ctx.report({ op: "state", state: "split-training", round });
      for (let epoch = 0; epoch < ctx.config.training.splitEpochs; epoch++) {
        const seed = deriveSeed(ctx.config.training.seed, ctx.index, round, 2);
        for (const batch of batches(ctx.data, { batchSize: ctx.config.training.batchSize, seed, epoch })) {
          ctx.signal?.throwIfAborted();
          const s = await r.step(ctx.bundle.inputsOf(batch), batch.labels, params);
          optimizerStepInPlace(optimizer, params, s.grads, state);
          lossSum += s.loss;
          steps++;
          flops += model.flops.step * batch.labels.length;
        }
      }
      const n = datasetSize(ctx.data);
      const loss = steps === 0 ? 0 : lossSum / steps;
      ctx.logger.log("info", "round-trained", {
        round,
        rounds,
        learningRate: optimizer.lr,
        samples: n,
        loss,
      });
      return {
        params,
        samples: n,
        kept: n,
        loss,
        localLoss: undefined,
        flops,
      };
    };
    train.release = async (): Promise<void> => {
      if (runner !== undefined) await (await runner).release();
    };
    return train;
  };
}

/** The server side: all weights are the global parameters; evaluation through the whole model. */
export async function wholeModelGlobal(
  model: WholeModel,
  bundle: PartitionBundle,
): Promise<GlobalModel & { release(): Promise<void> }> {
  const runner = await WholeModelRunner.create(model);
  return {
    initial: model.initial,
    evaluate(global: ParamSet, data: Dataset, batchSize: number): Promise<Evaluation> {
      return evaluateWith(data, batchSize, bundle, (x) => runner.logits(x, global));
    },
    release: () => runner.release(),
  };
}
