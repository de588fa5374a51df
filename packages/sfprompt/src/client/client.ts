// The client process of a job, in process: polls the coordinator for work, and for each round it is
// selected for fetches the global parameters, trains (phases 1 and 2) and uploads its update. A round
// that fails on the network (server gone, timeouts) is abandoned and the client polls again.
import { textBundleConfig } from "../runtime/job-source.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  DataPlaneError,
  TrafficLedger,
  jobSubjects,
  requestFrame,
  type DecodedFrame,
  type FrameInit,
  type RetryInfo,
  type TrafficSnapshot,
} from "@sfprompt/protocol";
import { bundleFlops } from "../bundle/flops.js";
import { PartitionBundle } from "../bundle/partition-bundle.js";
import type { Dataset } from "../datasets/dataset.js";
import { silentLogger, type Logger } from "../runtime/logger.js";
import {
  ParamsReplySchema,
  PollReplySchema,
  UploadReplySchema,
  meta,
  readMeta,
  type PollReply,
  type ReportRequest,
} from "../runtime/messages.js";
import type { ParamSet } from "../training/param-set.js";
import { localBody, remoteBody } from "./body-link.js";
import { trainRound, type RoundUpdate, type TrainerContext } from "./trainer.js";
import { clientName } from "../runtime/client-names.js";
import { JobEndWatch } from "./job-end.js";
import { ServerWait } from "./server-wait.js";

/**
 * Trains round `round` of `rounds` from the global parameters (split, FL + prompt, or whole-model);
 * `rounds` is the server's, the length of the learning-rate schedule (ADR 0024).
 */
export type RoundTrainer = ((round: number, global: ParamSet, rounds: number) => Promise<RoundUpdate>) & {
  /** Frees what the trainer opened (sessions), when the client stops. */
  release?: () => Promise<void>;
};

export interface ClientOptions {
  readonly nc: NatsConnection;
  readonly bundle: PartitionBundle | string;
  /** This client's local data (its shard). */
  readonly data: Dataset;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly intraOpThreads?: number;
  /** Pause after a failed poll before the next (default 500 ms). */
  readonly retryDelayMs?: number;
  /** Replaces the prompt + tail trainer (the fl-full baseline). */
  readonly trainer?: (ctx: ClientContext) => RoundTrainer;
}

/** What a client's trainer may use. */
export interface ClientContext {
  readonly config: RunConfig;
  readonly index: number;
  readonly name: string;
  readonly bundle: PartitionBundle;
  readonly data: Dataset;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  report(state: ReportRequest & { op: "state" }): Promise<void>;
}

export interface ClientResult {
  readonly client: string;
  /** Rounds whose upload the server accepted. */
  readonly rounds: number[];
  readonly traffic: TrafficSnapshot;
  /** Client FLOPs summed over the accepted rounds. */
  readonly flops: number;
}

class Link {
  #step = Math.floor(Math.random() * 0x40000000);
  constructor(
    readonly nc: NatsConnection,
    readonly config: RunConfig,
    readonly client: string,
    readonly ledger: TrafficLedger,
    readonly signal: AbortSignal | undefined,
    readonly logger: Logger,
  ) {}

  /** Logs a request's retry: its bytes are sent again and counted again, so a user should see why. */
  readonly onRetry = (r: RetryInfo): void =>
    this.logger.log("warn", "request-retry", {
      subject: r.subject,
      round: r.round,
      kind: r.kind,
      attempt: r.attempt,
      requestBytes: r.requestBytes,
      error: r.error,
    });

  nextStep(): number {
    // a random start per process: a restarted client never repeats the idempotency key of its last run
    this.#step = (this.#step + 1) % 0x100000000;
    return this.#step;
  }

  request(
    subject: string,
    init: Omit<FrameInit, "job" | "client" | "step">,
    timeoutMs?: number,
    onRetry: (r: RetryInfo) => void = this.onRetry,
  ): Promise<DecodedFrame> {
    const timeout = timeoutMs ?? this.config.transport.requestTimeoutSeconds * 1000;
    return requestFrame(
      this.nc,
      subject,
      { ...init, job: this.config.names.job, client: this.client, step: this.nextStep() },
      {
        ledger: this.ledger,
        timeoutMs: timeout,
        onRetry,
        // a child signal per request: the requester's retry sleeps add abort listeners that would
        // otherwise pile up on the client's long-lived signal while the server is away
        ...(this.signal ? { signal: AbortSignal.any([this.signal]) } : {}),
      },
    );
  }
}

/** Runs client `index` of the job until the coordinator says the job is done (or `signal` aborts). */
export async function runClient(config: RunConfig, index: number, o: ClientOptions): Promise<ClientResult> {
  const name = clientName(index);
  const logger = (o.logger ?? silentLogger).child({ job: config.names.job, client: name });
  const bundle =
    typeof o.bundle === "string"
      ? PartitionBundle.load(o.bundle, {
          ...textBundleConfig(config),
          ...(o.intraOpThreads ? { intraOpThreads: o.intraOpThreads } : {}),
          logger,
        })
      : o.bundle;
  const ledger = new TrafficLedger();
  const startedAt = Date.now();
  // the job may end without this client: its work stops at once when the server reports that
  const ending = new JobEndWatch(o.nc, config.names.job, startedAt);
  const signal = o.signal ? AbortSignal.any([o.signal, ending.signal]) : ending.signal;
  const link = new Link(o.nc, config, name, ledger, signal, logger);
  const subjects = jobSubjects(config.names.job);
  const report = async (r: ReportRequest): Promise<void> => {
    await link.request(subjects.roundReport, {
      kind: "control",
      round: r.op === "state" ? r.round : 0,
      meta: meta(r),
    });
  };
  const ctx: ClientContext = { config, index, name, bundle, data: o.data, logger, signal, report };
  const train = (o.trainer ?? splitTrainer(link))(ctx);
  const accepted: number[] = [];
  const waiting = new ServerWait(logger, subjects.roundReport);
  let flops = 0;
  try {
    for (let lastRound = 0; ;) {
      signal.throwIfAborted();
      const work = await poll(link, subjects.roundReport, lastRound, o.retryDelayMs ?? 500, waiting, ending);
      if (work.action === "done") break;
      if (work.action !== "train") continue;
      const update = await runRound(link, ctx, work, train).catch((error: unknown) => {
        if (!(error instanceof DataPlaneError) || signal.aborted) throw error;
        logger.log("warn", "round-abandoned", { round: work.round, error });
        return undefined;
      });
      if (update !== undefined) {
        accepted.push(work.round);
        flops += update.flops;
        lastRound = work.round;
      }
    }
  } catch (error) {
    const end = ending.ended();
    if (end === undefined || o.signal?.aborted === true) throw error;
    if (end.kind === "failed") {
      logger.log("error", "job-failed", {
        reason: end.error.reason,
        message: end.error.serverMessage,
        rounds: accepted.length,
        hint: "the job failed on its server; this client stops instead of waiting for it",
      });
      throw end.error;
    }
  } finally {
    ending.close();
    await train.release?.();
    if (typeof o.bundle === "string") await bundle.release();
  }
  logger.log("info", "client-done", { rounds: accepted.length });
  return { client: name, rounds: accepted, traffic: ledger.snapshot(), flops };
}

async function poll(
  link: Link,
  subject: string,
  lastRound: number,
  retryMs: number,
  waiting: ServerWait,
  ending: JobEndWatch,
): Promise<PollReply> {
  try {
    // the server holds a poll up to its pollWaitMs; the request timeout covers that and more. Its
    // retries are expected while the server is away: ServerWait says so once, not per retry.
    const reply = await link.request(
      subject,
      { kind: "control", round: lastRound + 1, meta: { op: "poll", lastRound } },
      undefined,
      (r) =>
        link.logger.log("debug", "request-retry", { subject: r.subject, attempt: r.attempt, error: r.error }),
    );
    waiting.answered();
    const work = readMeta(PollReplySchema, reply, "poll reply");
    ending.learnAttempt(work.attempt);
    // a server that lingers after its job failed says so to every poll
    if (work.action === "failed") throw ending.serverFailed(work.reason, work.message, work.attempt);
    return work;
  } catch (error) {
    if (!(error instanceof DataPlaneError) || link.signal?.aborted) throw error;
    waiting.failed(error);
    const end = await ending.checkStore();
    if (end?.kind === "finished") return { action: "done" };
    if (end?.kind === "failed") throw end.error;
    await new Promise((r) => setTimeout(r, retryMs));
    return { action: "wait" };
  }
}

async function runRound(
  link: Link,
  ctx: ClientContext,
  work: Extract<PollReply, { action: "train" }>,
  train: RoundTrainer,
): Promise<RoundUpdate | undefined> {
  const { round } = work;
  const subjects = jobSubjects(ctx.config.names.job);
  const reply = await link.request(subjects.paramsGlobal, { kind: "control", round, meta: { round } });
  if (readMeta(ParamsReplySchema, reply, "params reply").status !== "ok") return undefined;
  const global: ParamSet = new Map(
    reply.tensors.map((t) => [t.name, { data: t.data as Float32Array, shape: [...t.shape] }]),
  );
  // a running client keeps its config (ADR 0040): the schedule follows the rounds its server runs
  const update = await train(round, global, work.rounds ?? ctx.config.training.rounds);
  await ctx.report({ op: "state", state: "uploading", round });
  const codec = ctx.config.compression.parametersUp;
  const up = await link.request(subjects.paramsUpload, {
    kind: "parameters",
    round,
    meta: meta({
      round,
      samples: update.samples,
      kept: update.kept,
      loss: update.loss,
      localLoss: update.localLoss,
      flops: update.flops,
    }),
    tensors: [...update.params].map(([name, t]) => ({
      name,
      dtype: "float32" as const,
      shape: t.shape,
      data: t.data,
      codec,
    })),
  });
  const answer = readMeta(UploadReplySchema, up, "upload reply");
  if (!answer.accepted) {
    ctx.logger.log("warn", "upload-refused", { round, reason: answer.reason });
    return undefined;
  }
  return update;
}

/** The trainer of the prompt + tail methods: body over NATS (split) or in process (fl-prompt). */
function splitTrainer(link: Link): (ctx: ClientContext) => RoundTrainer {
  return (c) => {
    const { config, bundle } = c;
    const body = config.effective.splitTraining
      ? remoteBody({
          nc: link.nc,
          job: config.names.job,
          client: c.name,
          headOutput: bundle.headOutput,
          bodyOutput: bundle.bodyOutput,
          codecs: config.compression,
          ledger: link.ledger,
          timeoutMs: config.transport.requestTimeoutSeconds * 1000,
          nextStep: () => link.nextStep(),
          onRetry: link.onRetry,
          ...(c.signal ? { signal: c.signal } : {}),
        })
      : localBody(bundle);
    const currentRound = { value: 0 };
    const tctx: TrainerContext = {
      bundle,
      config,
      clientIndex: c.index,
      data: c.data,
      body,
      flops: bundleFlops(bundle),
      logger: c.logger,
      ...(c.signal ? { signal: c.signal } : {}),
      onState: (state) => c.report({ op: "state", state, round: currentRound.value }),
    };
    return (round, global, rounds) => {
      currentRound.value = round;
      return trainRound(tctx, round, global, rounds);
    };
  };
}
