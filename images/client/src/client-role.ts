// The client role: resolves the partition bundle and this client's data shard from the run config,
// then trains round after round (@sfprompt/core runClient) until the coordinator says the job is done.
// fl-full swaps in the whole-model trainer, as runLocalJob does.
import {
  PartitionBundle,
  prepareWholeModel,
  runClient,
  textBundleConfig,
  wholeModelTrainer,
} from "@sfprompt/core";
import type { RoleContext, RoleDefinition } from "@sfprompt/process-shell";
import {
  jobInputEncoding,
  requireImageMethod,
  roleBundleInputs,
  loadClientData,
  resolveBundleDir,
  resolveModelPath,
} from "@sfprompt/process-shell/inputs";

/** Methods whose clients run in this image (centralized has none). */
export const CLIENT_METHODS = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full"] as const;

async function run(ctx: RoleContext): Promise<void> {
  const { config, settings, logger, signal, metrics } = ctx;
  const index = settings.clientIndex!;
  requireImageMethod(config.method, CLIENT_METHODS);
  const inputs = roleBundleInputs(ctx);
  const dir = await resolveBundleDir(config, inputs);
  // read first (sessions open on first use): the data is shaped for the model's input
  const bundle = PartitionBundle.load(dir, {
    ...textBundleConfig(config),
    ...(settings.intraOpThreads === undefined ? {} : { intraOpThreads: settings.intraOpThreads }),
    logger,
  });
  try {
    // model, tokenizer and data of one kind (as sfprompt run checks), before any data is read
    const text = await jobInputEncoding(config, bundle, inputs.cacheDir);
    const data = await loadClientData(config, index, bundle, text);
    logger.log("info", "client.data", { samples: data.labels.length, classes: data.classNames.length });
    const whole =
      config.method === "fl-full"
        ? prepareWholeModel(await resolveModelPath(config, inputs), bundle.manifest, bundle.symbolicDims())
        : undefined;
    signal.throwIfAborted();
    ctx.markReady();
    const result = await runClient(config, index, {
      nc: ctx.nc,
      bundle,
      data,
      signal,
      logger,
      onRequest: metrics.onRequest,
      // live: the pod's bytes grow as the client trains, not when it returns
      onTraffic: metrics.onTraffic,
      ...(whole ? { trainer: wholeModelTrainer(whole) } : {}),
    });
    logger.log("info", "client.done", { rounds: result.rounds, flops: result.flops });
  } finally {
    await bundle.release();
  }
}

export const clientRole: RoleDefinition = {
  role: "client",
  processName: (settings) => `client-${settings.clientIndex ?? 0}`,
  watchEvents: true,
  run,
};
