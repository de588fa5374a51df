// The server role: resolves the partition bundle and held-out set from the run config, then runs the
// coordinator + body service (@sfprompt/core runServer) on the shell's NATS connection.
import { runServer } from "@sfprompt/core";
import type { RoleContext, RoleDefinition } from "@sfprompt/process-shell";
import { JobInputError, loadEvalData, resolveBundleDir } from "@sfprompt/process-shell/inputs";

/** Methods whose server runs in this image (fl-full needs the whole model, centralized no NATS). */
export const SERVER_METHODS = ["sfprompt", "sfl-prompt", "fl-prompt"] as const;

async function run(ctx: RoleContext): Promise<void> {
  const { config, settings, logger, signal, metrics } = ctx;
  if (!(SERVER_METHODS as readonly string[]).includes(config.method)) {
    throw new JobInputError(
      "method",
      `${config.method} runs only with sfprompt run (this image runs ${SERVER_METHODS.join(", ")})`,
    );
  }
  const bundle = await resolveBundleDir(config, {
    bundleDir: settings.bundleDir,
    modelPath: settings.modelPath,
    cacheDir: settings.cacheDir,
    logger,
    signal,
  });
  const evalData = await loadEvalData(config);
  if (evalData === undefined && config.training.evaluation.everyRounds > 0) {
    logger.log("warn", "eval.none", {
      reason: "no data.evalSource and data.source is not built in: accuracy is not measured",
    });
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
  });
  for (const [code, n] of Object.entries(result.badFrames)) metrics.badMessage(code, n);
  logger.log("info", "server.done", {
    rounds: result.rounds.length,
    resumedFrom: result.resumedFrom,
    provider: result.provider,
    badFrames: result.badFrames,
  });
}

export const serverRole: RoleDefinition = {
  role: "server",
  processName: () => "server",
  // runServer hands every event to onEvent; a subscription would count them twice
  watchEvents: false,
  run,
};
