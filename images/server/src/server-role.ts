// The server role: resolves the partition bundle and held-out set from the run config, then runs the
// coordinator + body service (@sfprompt/core startServer) on the shell's NATS connection. fl-full swaps
// in the whole-model global parameters, as runLocalJob does. An error that fails the job (the run's
// job.failed, or an input that is not there) is thrown as ServerJobFailedError, so the shell lingers
// instead of exiting into a Deployment's restart loop (ADR 0037); while it lingers, the job's end is
// delivered until stored and told to every client that polls (ADR 0041).
import {
  EVENT_VERSION,
  ensureJobResources,
  publishEvent,
  type JobResources,
  type ProgressEvent,
} from "@sfprompt/protocol";
import {
  PartitionBundle,
  prepareWholeModel,
  textBundleConfig,
  answerPollsWithEnd,
  deliverJobEnd,
  endedPollReply,
  startServer,
  warnEvalOverlap,
  wholeModelGlobal,
  type AggregatedUploads,
  type GlobalModel,
  ProgressStore,
  type PendingEnd,
  type PollReply,
  type ServerHandle,
  type ServerResult,
} from "@sfprompt/core";
import { ServerJobFailedError, type RoleContext, type RoleDefinition } from "@sfprompt/process-shell";
import {
  JobInputError,
  jobInputEncoding,
  requireImageMethod,
  roleBundleInputs,
  loadEvalData,
  resolveBundleDir,
  resolveModelPath,
} from "@sfprompt/process-shell/inputs";

/** Methods whose server runs in this image (centralized trains in one process: `sfprompt run`). */
export const SERVER_METHODS = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full"] as const;

async function run(ctx: RoleContext): Promise<void> {
  let failure: ProgressEvent | undefined;
  let server: ServerHandle | undefined;
  const onEvent = (e: ProgressEvent): void => {
    ctx.metrics.onEvent(e);
    if (e.type === "job.failed") failure = e;
  };
  try {
    const result = await serve(ctx, onEvent, (h) => (server = h));
    tellEnd(ctx, { action: "done", ...attemptOf(result.attempt) }, server?.pendingEnd(), result.rounds);
  } catch (error) {
    if (ctx.signal.aborted || !(error instanceof Error)) throw error;
    // runServer published job.failed: the job is over, whatever a restart would find
    if (failure?.type === "job.failed") {
      const reply = endedPollReply({ ...failure, ...attemptOf(server?.attempt()) });
      // the rounds it aggregated before the failure: a repeated upload of one is still in (duplicate)
      tellEnd(ctx, reply, server?.pendingEnd(), server?.aggregatedRounds());
      throw new ServerJobFailedError(error);
    }
    // the model, bundle or data is not there: no restart brings it, so the job fails, saying which
    if (error instanceof JobInputError) {
      const pending = await announceFailure(ctx, error);
      if (pending !== undefined) {
        tellEnd(ctx, { action: "failed", reason: error.name, message: error.message }, pending);
        throw new ServerJobFailedError(error);
      }
    }
    // anything else (NATS or JetStream not there yet) ends the process: its restart tries again
    throw error;
  }
}

function attemptOf(attempt: string | undefined): { attempt?: string } {
  return attempt === undefined ? {} : { attempt };
}

/**
 * While the process lingers after the job's end (ADR 0037): goes on storing what of the end its run
 * could not (NATS away longer than the retry budgets), and answers its clients' polls with the end,
 * so that a client started after it stops too, and an upload of a round in `aggregated` (the rounds
 * the run aggregated, finished or failed later) from one of its participants (sent again after its
 * reply was lost) as in. Both stop on the shell's SIGTERM.
 */
function tellEnd(
  ctx: RoleContext,
  reply: PollReply,
  pending: PendingEnd | undefined,
  aggregated: readonly AggregatedUploads[] = [],
): void {
  if (!ctx.settings.lingerAfterFinish || ctx.signal.aborted) return;
  const job = ctx.config.names.job;
  const { onRequest, onTraffic, onBadFrame } = ctx.metrics;
  const o = { logger: ctx.logger, signal: ctx.signal, onRequest, onTraffic, onBadFrame };
  void answerPollsWithEnd(ctx.nc, ctx.config, reply, o, aggregated);
  if (pending?.event !== undefined || pending?.state !== undefined)
    void deliverJobEnd(ctx.nc, job, pending, o);
}

/**
 * Publishes job.failed for `error` and leaves the failed round state (best effort: a lingering
 * server goes on writing it), so that clients that missed the event stop; undefined when the event
 * could not be published (NATS away: the restart tries again), else what is still to be stored.
 */
async function announceFailure(ctx: RoleContext, error: Error): Promise<PendingEnd | undefined> {
  const job = ctx.config.names.job;
  const event: ProgressEvent = {
    v: EVENT_VERSION,
    job,
    at: new Date().toISOString(),
    type: "job.failed",
    reason: error.name,
    message: error.message,
  };
  let resources: JobResources;
  try {
    resources = await ensureJobResources(ctx.nc, ctx.config.names);
    await publishEvent(ctx.nc, event);
  } catch (cause) {
    ctx.logger.log("warn", "job-failed.unpublished", { reason: error.name, error: cause });
    return undefined;
  }
  ctx.metrics.onEvent(event);
  // the failed state as a run's failure leaves it (ProgressStore.recordFailure), over what is stored
  const store = new ProgressStore({ resources, logger: ctx.logger, budgetMs: 0 });
  let round = 0;
  try {
    const stored = await resources.roundState.get();
    round = stored?.state.round ?? 0;
    store.revision = stored?.revision ?? 0;
    store.lastCheckpoint = stored?.state.checkpoint;
  } catch (cause) {
    // unreadable or NATS away: the failed state is written as the first (a newer one is left alone)
    ctx.logger.log("warn", "round-state-unread", { reason: error.name, error: cause });
  }
  await store.recordFailure(round, error.name, error.message);
  return store.unrecordedFailure === undefined ? {} : { state: store.unrecordedFailure };
}

async function serve(
  ctx: RoleContext,
  onEvent: (e: ProgressEvent) => void,
  started: (server: ServerHandle) => void,
): Promise<ServerResult> {
  const { config, settings, logger, signal, metrics } = ctx;
  requireImageMethod(config.method, SERVER_METHODS);
  const inputs = roleBundleInputs(ctx);
  const dir = await resolveBundleDir(config, inputs);
  // read first (sessions open on first use): the held-out set is shaped for the model's input
  const bundle = PartitionBundle.load(dir, {
    executionProvider: config.server.executionProvider,
    cpuFallback: config.server.cpuFallback,
    ...textBundleConfig(config),
    ...(settings.intraOpThreads === undefined ? {} : { intraOpThreads: settings.intraOpThreads }),
    logger,
  });
  let globalModel: (GlobalModel & { release(): Promise<void> }) | undefined;
  try {
    // model, tokenizer and data of one kind (as sfprompt run checks), before any data is read
    const text = await jobInputEncoding(config, bundle, inputs.cacheDir);
    const evalData = await loadEvalData(config, bundle, text);
    await warnEvalOverlap(config, logger);
    if (evalData === undefined && config.training.evaluation.everyRounds > 0) {
      logger.log("warn", "eval.none", {
        reason: "no data.evalSource and data.source is not built in: accuracy is not measured",
      });
    }
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
    const server = await startServer(config, {
      nc: ctx.nc,
      bundle,
      signal,
      logger,
      onEvent,
      onRequest: metrics.onRequest,
      // live: the pod's bytes and refusals grow as the job runs, not when it returns
      onTraffic: metrics.onTraffic,
      onBadFrame: metrics.onBadFrame,
      ...(evalData === undefined ? {} : { evalData }),
      ...(globalModel ? { globalModel } : {}),
      ...(settings.storeRetryMs === undefined ? {} : { storeRetryMs: settings.storeRetryMs }),
      ...(settings.eventRetryMs === undefined ? {} : { eventRetry: { budgetMs: settings.eventRetryMs } }),
    });
    started(server);
    const result = await server.done;
    logger.log("info", "server.done", {
      rounds: result.rounds.length,
      resumedFrom: result.resumedFrom,
      provider: result.provider,
      badFrames: result.badFrames,
    });
    return result;
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
