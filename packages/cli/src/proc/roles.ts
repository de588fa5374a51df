// What each local process runs: the server (coordinator + body service) or one client, through the
// runtime's in-process entry points (@sfprompt/core), the same ones the images call. fl-full swaps in
// the whole-model trainer and global model, as runLocalJob does.
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import {
  partitionForJob,
  PartitionBundle,
  textBundleConfig,
  prepareWholeModel,
  runClient,
  runServer,
  warnEvalOverlap,
  wholeModelGlobal,
  wholeModelTrainer,
  type Dataset,
  type Logger,
  type WholeModel,
} from "@sfprompt/core";
import { runBundleFix } from "../run/bundle.js";
import { jobInputErrorOf } from "./input-error.js";
import { loadEvalData, loadTrainData } from "./job-data.js";
import type { ProcessConfig } from "./process-config.js";

export interface RoleContext {
  readonly role: "server" | "client";
  readonly config: ProcessConfig;
  readonly index: number;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

function wholeModelOf(ctx: RoleContext, bundle: PartitionBundle): WholeModel | undefined {
  if (ctx.config.runConfig.method !== "fl-full") return undefined;
  return prepareWholeModel(ctx.config.modelPath, bundle.manifest, bundle.symbolicDims());
}

async function server(ctx: RoleContext): Promise<void> {
  const c = ctx.config.runConfig;
  // sessions open on first use: the held-out set is read for the model's input
  const bundle = PartitionBundle.load(ctx.config.bundleDir, {
    executionProvider: c.server.executionProvider,
    cpuFallback: c.server.cpuFallback,
    ...textBundleConfig(c),
    logger: ctx.logger,
    bundleFix: runBundleFix(c, ctx.config.bundleDir, ctx.config.modelPath),
  });
  const evalData = c.training.evaluation.everyRounds > 0 ? await loadEvalData(c, bundle) : undefined;
  await warnEvalOverlap(c, ctx.logger);
  const whole = wholeModelOf(ctx, bundle);
  const globalModel = whole ? await wholeModelGlobal(whole, bundle) : undefined;
  try {
    const r = await runServer(c, {
      nc: ctx.nc,
      bundle,
      signal: ctx.signal,
      logger: ctx.logger,
      // the host name alone ("server vm: …") read as a name of the server; on a cluster it is the pod's
      instance: `${hostname()} (this machine)`,
      ...(evalData === undefined ? {} : { evalData }),
      ...(globalModel ? { globalModel } : {}),
    });
    ctx.logger.log("info", "server.done", {
      rounds: r.rounds.length,
      resumedFrom: r.resumedFrom,
      provider: r.provider,
    });
  } finally {
    await globalModel?.release();
    await bundle.release();
  }
}

/** Client `index`'s shard; a split the data cannot give is the job's input error (its field). */
function shardOf(c: RunConfig, train: Dataset, index: number): Dataset | undefined {
  try {
    return partitionForJob(train, jobPartitioning(c.data, "one-machine"), c.clients.count)[index];
  } catch (cause) {
    throw jobInputErrorOf(cause) ?? cause;
  }
}

async function client(ctx: RoleContext): Promise<void> {
  const c = ctx.config.runConfig;
  const bundle = PartitionBundle.load(ctx.config.bundleDir, {
    ...textBundleConfig(c),
    logger: ctx.logger,
    bundleFix: runBundleFix(c, ctx.config.bundleDir, ctx.config.modelPath),
  });
  const train = await loadTrainData(c, bundle);
  const data = shardOf(c, train, ctx.index);
  if (data === undefined)
    throw new RangeError(`client index ${ctx.index} is outside 0..${c.clients.count - 1}`);
  const whole = wholeModelOf(ctx, bundle);
  try {
    const r = await runClient(c, ctx.index, {
      nc: ctx.nc,
      bundle,
      data,
      signal: ctx.signal,
      logger: ctx.logger,
      ...(whole ? { trainer: wholeModelTrainer(whole) } : {}),
    });
    ctx.logger.log("info", "client.done", { rounds: r.rounds.length, flops: r.flops });
  } finally {
    await bundle.release();
  }
}

/** Runs the process's role to completion (or until ctx.signal aborts). */
export function runRole(ctx: RoleContext): Promise<void> {
  return ctx.role === "server" ? server(ctx) : client(ctx);
}
