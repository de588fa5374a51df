// The server role: resolves the partition bundle and held-out set from the run config, then runs the
// coordinator + body service (@sfprompt/core runServer) on the shell's NATS connection. fl-full swaps
// in the whole-model global parameters, as runLocalJob does. An error that fails the job (runServer's
// job.failed, or an input that is not there) is thrown as ServerJobFailedError, so the shell lingers
// instead of exiting into a Deployment's restart loop (ADR 0037).
import { EVENT_VERSION, ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import {
  PartitionBundle,
  jobTextEncoding,
  prepareWholeModel,
  textBundleConfig,
  runServer,
  wholeModelGlobal,
  type GlobalModel,
} from "@sfprompt/core";
import { ServerJobFailedError, type RoleContext, type RoleDefinition } from "@sfprompt/process-shell";
import {
  JobInputError,
  requireImageMethod,
  roleBundleInputs,
  loadEvalData,
  resolveBundleDir,
  resolveModelPath,
} from "@sfprompt/process-shell/inputs";

/** Methods whose server runs in this image (centralized trains in one process: `sfprompt run`). */
export const SERVER_METHODS = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full"] as const;

async function run(ctx: RoleContext): Promise<void> {
  let failedJob = false;
  const onEvent = (e: ProgressEvent): void => {
    ctx.metrics.onEvent(e);
    if (e.type === "job.failed") failedJob = true;
  };
  try {
    await serve(ctx, onEvent);
  } catch (error) {
    if (ctx.signal.aborted || !(error instanceof Error)) throw error;
    // runServer published job.failed: the job is over, whatever a restart would find
    if (failedJob) throw new ServerJobFailedError(error);
    // the model, bundle or data is not there: no restart brings it, so the job fails, saying which
    if (error instanceof JobInputError && (await announceFailure(ctx, error)))
      throw new ServerJobFailedError(error);
    // anything else (NATS or JetStream not there yet) ends the process: its restart tries again
    throw error;
  }
}

/** Publishes job.failed for `error`; false when it could not (NATS away: the restart tries again). */
async function announceFailure(ctx: RoleContext, error: Error): Promise<boolean> {
  const job = ctx.config.names.job;
  const event: ProgressEvent = {
    v: EVENT_VERSION,
    job,
    at: new Date().toISOString(),
    type: "job.failed",
    reason: error.name,
    message: error.message,
  };
  try {
    await ensureJobResources(ctx.nc, job);
    await publishEvent(ctx.nc, event);
  } catch (cause) {
    ctx.logger.log("warn", "job-failed.unpublished", { reason: error.name, error: cause });
    return false;
  }
  ctx.metrics.onEvent(event);
  return true;
}

async function serve(ctx: RoleContext, onEvent: (e: ProgressEvent) => void): Promise<void> {
  const { config, settings, logger, signal, metrics } = ctx;
  requireImageMethod(config.method, SERVER_METHODS);
  const inputs = roleBundleInputs(ctx);
  const dir = await resolveBundleDir(config, inputs);
  const text = await jobTextEncoding(config, inputs.cacheDir);
  const evalData = await loadEvalData(config, text);
  if (evalData === undefined && config.training.evaluation.everyRounds > 0) {
    logger.log("warn", "eval.none", {
      reason: "no data.evalSource and data.source is not built in: accuracy is not measured",
    });
  }
  const bundle = PartitionBundle.load(dir, {
    executionProvider: config.server.executionProvider,
    cpuFallback: config.server.cpuFallback,
    ...textBundleConfig(config),
    ...(settings.intraOpThreads === undefined ? {} : { intraOpThreads: settings.intraOpThreads }),
    logger,
  });
  let globalModel: (GlobalModel & { release(): Promise<void> }) | undefined;
  try {
    if (config.method === "fl-full") {
      const whole = prepareWholeModel(
        await resolveModelPath(config, inputs),
        bundle.manifest,
        bundle.symbolicDims(),
      );
      globalModel = await wholeModelGlobal(whole, bundle);
    }
    signal.throwIfAborted();
    ctx.markReady();
    const result = await runServer(config, {
      nc: ctx.nc,
      bundle,
      signal,
      logger,
      onEvent,
      ...(evalData === undefined ? {} : { evalData }),
      ...(globalModel ? { globalModel } : {}),
    });
    for (const [code, n] of Object.entries(result.badFrames)) metrics.badMessage(code, n);
    metrics.addTraffic(result.traffic);
    logger.log("info", "server.done", {
      rounds: result.rounds.length,
      resumedFrom: result.resumedFrom,
      provider: result.provider,
      badFrames: result.badFrames,
    });
  } finally {
    // the ORT sessions go with the process's last word, also when the run was aborted
    await globalModel?.release();
    await bundle.release();
  }
}

export const serverRole: RoleDefinition = {
  role: "server",
  processName: () => "server",
  // runServer hands every event to onEvent; a subscription would count them twice
  watchEvents: false,
  run,
};
