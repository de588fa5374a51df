// The server process of a job, in process: the body service (split methods), the coordinator and its
// control services, over one NATS connection. The image's entry point and `sfprompt run` call this.
import { textBundleConfig } from "../runtime/job-source.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  ensureJobResources,
  isTransientNatsError,
  openExistingArtifactStore,
  TrafficLedger,
  type BadFrameObserver,
  type ProgressEvent,
  type TrafficObserver,
  type TrafficSnapshot,
} from "@sfprompt/protocol";
import { PartitionBundle } from "../bundle/partition-bundle.js";
import type { ExecutionProvider } from "../bundle/sessions.js";
import { joinParams } from "../bundle/tensors.js";
import type { Dataset } from "../datasets/dataset.js";
import { observerErrorsTo, silentLogger, type Logger } from "../runtime/logger.js";
import type { RequestObserver } from "../runtime/request-ops.js";
import type { ParamSet } from "../training/param-set.js";
import { startBodyService, type BodyGradientMode } from "./body-service.js";
import { startControlServices } from "./control-service.js";
import { Coordinator, type JobOutcome } from "./coordinator.js";
import type { RoundMetrics } from "./checkpoints.js";
import { evaluateSplit, evaluationSubset, type Evaluation } from "./evaluate.js";
import { EventPublisher, type EventRetryOptions } from "./events.js";
import type { PendingEnd } from "./job-end-delivery.js";
import { announceServerReady } from "./server-ready.js";

/** Method-specific global parameters (the whole-model baseline brings its own). */
export interface GlobalModel {
  readonly initial: ParamSet;
  evaluate(global: ParamSet, data: Dataset, batchSize: number): Promise<Evaluation>;
}

export interface ServerOptions {
  readonly nc: NatsConnection;
  /** A loaded bundle (kept open) or its directory (opened and released here). */
  readonly bundle: PartitionBundle | string;
  /** The held-out set; undefined: no evaluation. */
  readonly evalData?: Dataset;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Also told every progress event (the CLI's progress bars). */
  readonly onEvent?: (e: ProgressEvent) => void;
  readonly bodyGradient?: BodyGradientMode;
  readonly intraOpThreads?: number;
  readonly pollWaitMs?: number;
  readonly selectionWaitMs?: number;
  /** How long a checkpoint or round-state write is retried while NATS is away (default 120 s). */
  readonly storeRetryMs?: number;
  /** How often a progress event is tried before it is given up on (default: 5 attempts). */
  readonly eventRetry?: EventRetryOptions;
  /** Replaces prompt + tail as the global parameters (fl-full). */
  readonly globalModel?: GlobalModel;
  /** Keeps the control services up this long after the last round, so polling clients hear "done" (default 1000 ms). */
  readonly lingerMs?: number;
  /** This replica's name in the server.ready event (default: the host name, i.e. the pod name). */
  readonly instance?: string;
  /** Told every request the control and body services answered (the pod's latency histogram). */
  readonly onRequest?: RequestObserver;
  /** Told every message the server counts in its ledger, as it counts it (the pod's live bytes). */
  readonly onTraffic?: TrafficObserver;
  /**
   * Told every refusal of the control and body services, just before its error reply is sent (the
   * pod's refusals).
   */
  readonly onBadFrame?: BadFrameObserver;
}

/** What a running server can say at any time (for /metrics and tests). */
export interface ServerStats {
  readonly provider: ExecutionProvider | undefined;
  /** Every message the server sent or received, per client, round and kind. */
  readonly traffic: TrafficSnapshot;
  /** Error replies sent for bad frames, by code, over all services. */
  readonly badFrames: Record<string, number>;
  /** Requests per body session run (forward, backward); null without a body service. */
  readonly bodyGroups: { forward: number[]; backward: number[] } | null;
}

export interface ServerResult extends JobOutcome, ServerStats {}

/** A started server: `done` settles when the job ends (rejects when stopped or failed). */
export interface ServerHandle {
  readonly done: Promise<ServerResult>;
  stats(): ServerStats;
  /** Aborts the job in this process (as a killed server would stop) and waits for the shutdown. */
  stop(): Promise<void>;
  /**
   * Once `done` settled: the job end (event, failed round state) this server could not store within
   * its retry budgets, for a server that lingers to go on delivering (deliverJobEnd).
   */
  pendingEnd(): PendingEnd;
  /** The run's attempt, once the coordinator chose where it goes on from (undefined before, or none). */
  attempt(): string | undefined;
  /** The rounds the run aggregated so far (all of them once it failed, as `rounds` of its result). */
  aggregatedRounds(): readonly RoundMetrics[];
}

/** Runs the server side of a job until its last round (or until `signal` aborts it). */
export async function runServer(config: RunConfig, o: ServerOptions): Promise<ServerResult> {
  return (await startServer(config, o)).done;
}

/** Starts the server side of a job; resolves once its services listen. */
export async function startServer(config: RunConfig, o: ServerOptions): Promise<ServerHandle> {
  const stopper = new AbortController();
  const onAbort = (): void => stopper.abort(o.signal?.reason);
  if (o.signal?.aborted) stopper.abort(o.signal.reason);
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const signal = stopper.signal;
  const logger = (o.logger ?? silentLogger).child({ job: config.names.job, role: "server" });
  const ownBundle = typeof o.bundle === "string";
  const bundle =
    typeof o.bundle === "string"
      ? PartitionBundle.load(o.bundle, {
          executionProvider: config.server.executionProvider,
          cpuFallback: config.server.cpuFallback,
          ...textBundleConfig(config),
          ...(o.intraOpThreads === undefined ? {} : { intraOpThreads: o.intraOpThreads }),
          logger,
        })
      : o.bundle;
  const ledger = new TrafficLedger(o.onTraffic, observerErrorsTo(logger));
  const resources = await ensureJobResources(o.nc, config.names);
  const events = new EventPublisher(o.nc, config.names.job, logger, o.onEvent, o.eventRetry);
  // the coordinator names the run's attempt once it knows where it goes on from
  events.holdUntilAttempt();
  const evalSet =
    o.evalData && evaluationSubset(o.evalData, config.training.evaluation.maxSamples, config.training.seed);
  const batch = config.training.batchSize;
  const init = o.globalModel ? undefined : bundle.initialParams();
  const initial = o.globalModel?.initial ?? joinParams(init!.prompt, init!.tail);
  const evaluate =
    evalSet === undefined
      ? undefined
      : (g: ParamSet): Promise<Evaluation> =>
          o.globalModel
            ? o.globalModel.evaluate(g, evalSet, batch)
            : evaluateSplit(bundle, g, evalSet, batch);
  const coordinator = new Coordinator({
    config,
    ledger,
    logger,
    events,
    resources,
    initial,
    signal,
    ...(evaluate ? { evaluate } : {}),
    ...(o.pollWaitMs === undefined ? {} : { pollWaitMs: o.pollWaitMs }),
    ...(o.selectionWaitMs === undefined ? {} : { selectionWaitMs: o.selectionWaitMs }),
    ...(o.storeRetryMs === undefined ? {} : { storeRetryMs: o.storeRetryMs }),
    openBucket: (bucket) => openExistingArtifactStore(o.nc, bucket),
  });
  const hooks = {
    ...(o.onRequest ? { onRequest: o.onRequest } : {}),
    ...(o.onBadFrame ? { onBadFrame: o.onBadFrame } : {}),
  };
  const control = await startControlServices(o.nc, coordinator, ledger, hooks);
  const body = config.effective.splitTraining
    ? await startBodyService({
        nc: o.nc,
        config,
        bundle,
        ledger,
        logger,
        isKnownClient: (c) => coordinator.registry.isKnown(c),
        ...(o.bodyGradient ? { mode: o.bodyGradient } : {}),
        ...hooks,
      })
    : undefined;
  const stats = (): ServerStats => {
    const badFrames: Record<string, number> = {};
    for (const r of [...control.responders, ...(body ? [body.forward, body.backward] : [])]) {
      for (const [code, n] of Object.entries(r.stats().errors))
        badFrames[code] = (badFrames[code] ?? 0) + (n ?? 0);
    }
    return {
      provider: bundle.provider,
      traffic: ledger.snapshot(),
      badFrames,
      bodyGroups: body ? body.groupSizes : null,
    };
  };
  const run = async (): Promise<ServerResult> => {
    try {
      // Opening the body session runs beside the first round's set-up; when it cannot run at all
      // (CUDA without fallback) the job stops with that error instead of the abort it causes.
      let unusable: Error | undefined;
      const ready = announceServerReady({
        config,
        bundle,
        events,
        logger,
        runsBody: config.effective.splitTraining || (evalSet !== undefined && !o.globalModel),
        instance: o.instance,
      }).catch((error: unknown) => {
        unusable = error as Error;
        stopper.abort(error);
        throw error;
      });
      const outcome = await Promise.all([ready, coordinator.run()])
        .then(([, out]) => out)
        .catch(async (error: unknown) => {
          const e = unusable ?? (error as Error);
          // NATS not answering (a nats-server restarting under the server's first reads) is no failure
          // of the job: the server ends without job.failed, and one started again resumes (ADR 0037)
          if (unusable || (!signal.aborted && !isTransientNatsError(e))) {
            // a run that failed before it knew its attempt (a checkpoint that does not fit) says so
            // without one: consumers fold it into the attempt they follow
            events.startAttempt(undefined);
            const reason = e.name || "Error";
            const told = events.publish({ type: "job.failed", reason, message: String(e.message) });
            await coordinator.recordFailure(reason, String(e.message));
            await told;
          }
          throw e;
        });
      // the coordinator does not wait for its events: job.finished and any still retried go out first
      await events.flush();
      await new Promise((r) => setTimeout(r, o.lingerMs ?? 1000));
      return { ...outcome, ...stats() };
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
      // stopped (SIGTERM) right after a checkpoint: its round.finished is still queued, and whoever
      // follows the job (the operator's status, the next `sfprompt run`) needs it; a NATS that is gone
      // is not waited for longer than this
      await settleWithin(events.flush(), STOP_FLUSH_MS);
      await Promise.allSettled([control.stop(), body?.stop()]);
      if (ownBundle) await bundle.release();
    }
  };
  const done = run();
  return {
    done,
    stats,
    async stop() {
      stopper.abort(new Error("server stopped"));
      await done.catch(() => undefined);
    },
    pendingEnd: () => ({ event: events.undeliveredEnd(), state: coordinator.unrecordedFailure() }),
    attempt: () => events.attempt,
    aggregatedRounds: () => coordinator.aggregatedRounds(),
  };
}

/** How long a stopping server waits for its queued progress events to reach the stream. */
const STOP_FLUSH_MS = 2000;

/** Waits for `p` (which never rejects), at most `ms`. */
async function settleWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
