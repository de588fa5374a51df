// The client process of a job, in process: polls the coordinator for work, and for each round it is
// selected for fetches the global parameters, trains (phases 1 and 2) and uploads its update. A round
// that fails on the network (server gone, timeouts) is abandoned and the client polls again.
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  DataPlaneError,
  TrafficLedger,
  jobSubjects,
  type TrafficObserver,
  type TrafficSnapshot,
} from "@sfprompt/protocol";
import { bundleFlops } from "../bundle/flops.js";
import { PartitionBundle } from "../bundle/partition-bundle.js";
import type { Dataset } from "../datasets/dataset.js";
import { clientName } from "../runtime/client-names.js";
import { textBundleConfig } from "../runtime/job-source.js";
import { observerErrorsTo, silentLogger, type Logger } from "../runtime/logger.js";
import { PollReplySchema, meta, type ReportRequest } from "../runtime/messages.js";
import type { RequestObserver } from "../runtime/request-ops.js";
import { localBody, remoteBody } from "./body-link.js";
import type { ClientContext, RoundTrainer } from "./client-context.js";
import { JobEndWatch } from "./job-end.js";
import { Reconnects } from "./reconnects.js";
import { pollForWork, runSelectedRound } from "./round-work.js";
import { ServerLink } from "./server-link.js";
import { ServerWait } from "./server-wait.js";
import { trainRound, type TrainerContext } from "./trainer.js";

export type { ClientContext, RoundTrainer } from "./client-context.js";

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
  /** Told every request to the server (polls, reports, params, body) with its latency and outcome. */
  readonly onRequest?: RequestObserver;
  /** Told every message the client counts in its ledger, as it counts it (the pod's live bytes). */
  readonly onTraffic?: TrafficObserver;
}

export interface ClientResult {
  readonly client: string;
  /** Rounds whose upload the server accepted. */
  readonly rounds: number[];
  readonly traffic: TrafficSnapshot;
  /** Client FLOPs summed over the accepted rounds. */
  readonly flops: number;
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
  const ledger = new TrafficLedger(o.onTraffic, observerErrorsTo(logger));
  const startedAt = Date.now();
  // the job may end without this client: its work stops at once when the server reports that
  const ending = new JobEndWatch(o.nc, config.names.job, startedAt);
  const signal = o.signal ? AbortSignal.any([o.signal, ending.signal]) : ending.signal;
  // a request waiting when NATS reconnects is sent again at once, not after its timeout
  const reconnects = new Reconnects(o.nc);
  const link = new ServerLink(o.nc, config, name, ledger, signal, logger, reconnects, o.onRequest);
  const subjects = jobSubjects(config.names.job);
  const report = async (r: ReportRequest): Promise<void> => {
    const reply = await link.request(subjects.roundReport, {
      kind: "control",
      round: r.op === "state" ? r.round : 0,
      meta: meta(r),
    });
    // a running server answers `ok`; one lingering after its job ended answers every report with the
    // end (ADR 0041 amendments 10, 11): the round this client is in cannot count, so it stops now, not
    // at its next poll or body request
    const end = PollReplySchema.safeParse(reply.header.meta);
    if (!end.success) return;
    if (end.data.action === "failed")
      throw ending.serverFailed(end.data.reason, end.data.message, end.data.attempt);
    if (end.data.action === "done") throw ending.serverDone(end.data.attempt, end.data);
  };
  const ctx: ClientContext = { config, index, name, bundle, data: o.data, logger, signal, report };
  let train: RoundTrainer | undefined;
  const accepted: number[] = [];
  const waiting = new ServerWait(logger, subjects.roundReport);
  let flops = 0;
  // the round this client was selected for and has no accepted update of: the job may end in it
  let unfinished: number | undefined;
  try {
    // in the try: a trainer that cannot be made (a bundle missing a graph) still unhooks the watches
    train = (o.trainer ?? splitTrainer(link))(ctx);
    for (let lastRound = 0; ;) {
      signal.throwIfAborted();
      const work = await pollForWork(
        link,
        subjects.roundReport,
        lastRound,
        o.retryDelayMs ?? 500,
        waiting,
        ending,
      );
      if (work.action === "done") break;
      if (work.action !== "train") continue;
      unfinished = work.round;
      const update = await runSelectedRound(link, ctx, work, train).catch((error: unknown) => {
        if (!(error instanceof DataPlaneError) || signal.aborted) throw error;
        logger.log("warn", "round-abandoned", {
          round: work.round,
          error,
          hint: `this client gives round ${work.round} up and polls again for its next round; it stops once its server, or the job's round state, says the job ended`,
        });
        return undefined;
      });
      if (update !== undefined) {
        accepted.push(work.round);
        flops += update.flops;
        lastRound = work.round;
        unfinished = undefined;
      }
    }
  } catch (error) {
    const end = ending.ended();
    // the job's end stopped the work (with end.error, the signal's reason): it ends as that end
    if (end === undefined || o.signal?.aborted === true) throw error;
    if (end.kind === "finished")
      logger.log("info", "job-finished", {
        learnedFrom: end.error.source,
        rounds: accepted.length,
        hint: "the job finished on its server while this client was at work; it stops, nothing failed",
      });
    else {
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
    await reconnects.close();
    await train?.release?.();
    if (typeof o.bundle === "string") await bundle.release();
  }
  // named only if the job ended in it: a round the job went on from without this client (its upload
  // refused, or given up) was said when it happened, and the job's last round was not this client's
  if (unfinished !== undefined && (await endedIn(ending, unfinished)))
    logger.log("info", "round-unfinished", {
      round: unfinished,
      hint: `the server closed round ${unfinished} without this client's update (the others reached its quorum, or its timeout passed) and the job ended`,
    });
  logger.log("info", "client-done", { rounds: accepted.length });
  return { client: name, rounds: accepted, traffic: ledger.snapshot(), flops };
}

/** True unless the job's round state says that the job went on to a round after `round`. */
async function endedIn(ending: JobEndWatch, round: number): Promise<boolean> {
  const last = await ending.lastRound();
  return last === undefined || last <= round;
}

/** The trainer of the prompt + tail methods: body over NATS (split) or in process (fl-prompt). */
function splitTrainer(link: ServerLink): (ctx: ClientContext) => RoundTrainer {
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
          reconnects: link.reconnects,
          onResend: link.onResend,
          onRetry: link.onRetry,
          onObserverError: link.onObserverError,
          ...(link.onRequest ? { onRequest: link.onRequest } : {}),
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
