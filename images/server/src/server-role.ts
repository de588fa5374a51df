// The server role: resolves the partition bundle and held-out set from the run config, then runs the
// coordinator + body service (@sfprompt/core runServer) on the shell's NATS connection. fl-full swaps
// in the whole-model global parameters, as runLocalJob does.
import {
  PartitionBundle,
  jobTextEncoding,
  prepareWholeModel,
  textBundleConfig,
  runServer,
  wholeModelGlobal,
  type GlobalModel,
} from "@sfprompt/core";
import type { RoleContext, RoleDefinition } from "@sfprompt/process-shell";
import {
  requireImageMethod,
  roleBundleInputs,
  loadEvalData,
  resolveBundleDir,
  resolveModelPath,
} from "@sfprompt/process-shell/inputs";

/** Methods whose server runs in this image (centralized trains in one process: `sfprompt run`). */
export const SERVER_METHODS = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full"] as const;

async function run(ctx: RoleContext): Promise<void> {
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
      onEvent: (e) => metrics.onEvent(e),
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
