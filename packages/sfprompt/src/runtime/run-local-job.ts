// A whole job in one process: the server and every client on one NATS connection (or the
// centralised baseline without NATS). What `sfprompt run` and the tests call; each process inside
// the pods runs runServer or runClient instead.
import { textBundleConfig } from "./job-source.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { jobPartitioning, type RunConfig } from "@sfprompt/api";
import type { Model } from "@sfprompt/engine";
import type { ProgressEvent } from "@sfprompt/protocol";
import { prepareWholeModel } from "../baselines/whole-model.js";
import { runCentralized } from "../baselines/centralized.js";
import { wholeModelGlobal, wholeModelTrainer } from "../baselines/fl-full.js";
import { bundleFlops } from "../bundle/flops.js";
import { PartitionBundle } from "../bundle/partition-bundle.js";
import { runClient, type ClientResult } from "../client/client.js";
import type { Dataset } from "../datasets/dataset.js";
import { partitionForJob } from "../datasets/job-partition.js";
import type { RoundMetrics } from "../server/checkpoints.js";
import { ownRounds, totalBytes } from "../server/round-metrics.js";
import { runServer, type ServerOptions, type ServerResult } from "../server/server.js";
import type { ParamSet } from "../training/param-set.js";
import { runComputeShare } from "./compute-share.js";
import { RunConfigError } from "./errors.js";
import { silentLogger, type Logger } from "./logger.js";

export interface LocalJobOptions {
  /** The bundle directory (each participant opens its own sessions). */
  readonly bundle: string;
  /** All training data; partitioned among the clients as the job says. */
  readonly train: Dataset;
  readonly eval?: Dataset;
  /** Needed by every method but centralized. */
  readonly nc?: NatsConnection;
  /** The source model: needed by fl-full (all weights are trained). */
  readonly model?: Model | string;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly onEvent?: (e: ProgressEvent) => void;
  /** Extra server settings (poll wait, body gradient mode, ...). */
  readonly server?: Partial<
    Omit<ServerOptions, "nc" | "bundle" | "evalData" | "signal" | "logger" | "onEvent">
  >;
}

export interface LocalJobResult {
  readonly method: RunConfig["method"];
  readonly rounds: RoundMetrics[];
  /** Accuracy after the last evaluated round (null: never evaluated). */
  readonly accuracy: number | null;
  /**
   * Bytes over NATS as the server counted them (payload + frame header), summed over the rounds it
   * trained (not those taken over from another job, spec.output.resumeFrom), as job.finished's are.
   */
  readonly bytes: RoundMetrics["bytes"] & { total: number };
  /** Mean client FLOPs per round over a full fine-tuning client's on the same data and epochs. */
  readonly clientFlopsShare: number | null;
  readonly global: ParamSet;
  readonly clients: ClientResult[];
  readonly resumedFrom: number | null;
  readonly badFrames: Record<string, number>;
}

/** Runs the job's method end to end and returns its per-round metrics. */
export async function runLocalJob(config: RunConfig, o: LocalJobOptions): Promise<LocalJobResult> {
  const logger = o.logger ?? silentLogger;
  // this bundle's sessions serve the server (and the centralised run): the server's provider applies
  const probe = PartitionBundle.load(o.bundle, {
    executionProvider: config.server.executionProvider,
    cpuFallback: config.server.cpuFallback,
    ...textBundleConfig(config),
    logger,
  });
  try {
    const whole =
      config.method === "fl-full"
        ? prepareWholeModel(requireModel(o.model), probe.manifest, probe.symbolicDims())
        : undefined;
    const wholeForward = whole?.flops.forward ?? bundleFlops(probe).wholeForward;
    if (config.method === "centralized") {
      const { rounds, global } = await runCentralized(config, {
        bundle: probe,
        train: o.train,
        ...(o.eval ? { eval: o.eval } : {}),
        logger,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      const run = { rounds, global, resumedFrom: null, badFrames: {}, inherited: undefined };
      return result(config, run, wholeForward, []);
    }
    const nc = requireNc(o.nc);
    const shards = partitionForJob(
      o.train,
      jobPartitioning(config.data, "one-machine"),
      config.clients.count,
    );
    const stopClients = new AbortController();
    const onAbort = (): void => stopClients.abort(o.signal?.reason);
    o.signal?.addEventListener("abort", onAbort, { once: true });
    const globalModel = whole ? await wholeModelGlobal(whole, probe) : undefined;
    try {
      const clients = shards.map((data, i) =>
        runClient(config, i, {
          nc,
          bundle: o.bundle,
          data,
          signal: stopClients.signal,
          logger,
          ...(whole ? { trainer: wholeModelTrainer(whole) } : {}),
        }),
      );
      const server = await runServer(config, {
        ...o.server,
        nc,
        bundle: probe,
        ...(o.eval ? { evalData: o.eval } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        logger,
        ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        ...(globalModel ? { globalModel } : {}),
      }).catch((error: unknown) => {
        stopClients.abort(error);
        throw error;
      });
      // clients heard "done" while the server lingered; any still waiting are stopped
      const timer = setTimeout(() => stopClients.abort(new Error("job finished")), 5000);
      const settled = await Promise.allSettled(clients);
      clearTimeout(timer);
      const done = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      return result(config, server, wholeForward, done);
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
      await globalModel?.release();
    }
  } finally {
    await probe.release();
  }
}

function result(
  config: RunConfig,
  server: Pick<ServerResult, "rounds" | "global" | "resumedFrom" | "badFrames" | "inherited">,
  wholeForward: number,
  clients: ClientResult[],
): LocalJobResult {
  const { rounds, global, resumedFrom, badFrames } = server;
  // the rounds another job trained (spec.output.resumeFrom) are neither this job's bytes nor its clients' work
  const own = ownRounds(rounds, server.inherited);
  const bytes = totalBytes(own);
  const accuracy = [...rounds].reverse().find((r) => r.accuracy !== null)?.accuracy ?? null;
  return {
    method: config.method,
    rounds,
    accuracy,
    bytes: { ...bytes, total: bytes.up + bytes.down },
    clientFlopsShare: runComputeShare(config, own, wholeForward),
    global,
    clients,
    resumedFrom,
    badFrames,
  };
}

function requireNc(nc: NatsConnection | undefined): NatsConnection {
  if (nc === undefined)
    throw new RunConfigError("transport", "this method runs over NATS: pass a connection (nc)");
  return nc;
}

function requireModel(model: Model | string | undefined): Model | string {
  if (model === undefined) {
    throw new RunConfigError(
      "model",
      "fl-full trains every weight and needs the source ONNX model: pass `model`",
    );
  }
  return model;
}
