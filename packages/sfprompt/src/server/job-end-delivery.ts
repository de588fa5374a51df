// A server that lingers after its job ended (its pod kept up, ADR 0037) keeps telling it: the
// job.finished / job.failed and the failed round state its run could not store (NATS away longer
// than their retry budgets) are sent again with backoff until stored or the server is stopped, and
// clients that poll it are answered with the end, so that one started after the end stops too.
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  EventSchemaError,
  RoundStateConflictError,
  jobSubjects,
  openRoundState,
  publishEvent,
  serveFrames,
  TrafficLedger,
  type BadFrameObserver,
  type DecodedFrame,
  type FrameResponder,
  type ProgressEvent,
  type ReplyInit,
  type RoundState,
  type TrafficObserver,
} from "@sfprompt/protocol";
import { clientNames, isJobClient } from "../runtime/client-names.js";
import { observerErrorsTo, responderLog, type Logger } from "../runtime/logger.js";
import { pause } from "../runtime/pause.js";
import {
  ParamsRequestSchema,
  UploadMetaSchema,
  meta,
  readMeta,
  type PollReply,
} from "../runtime/messages.js";
import { observeResponses, type RequestObserver } from "../runtime/request-ops.js";
import type { RoundMetrics } from "./checkpoints.js";

/** A round state to write with compare-and-set on `revision` (0: none stored yet). */
export interface PendingState {
  readonly state: RoundState;
  readonly revision: number;
}

/** What of the job's end is not stored yet. */
export interface PendingEnd {
  readonly event?: ProgressEvent | undefined;
  readonly state?: PendingState | undefined;
}

export interface DeliveryOptions {
  readonly logger: Logger;
  /** Stops the delivery (the lingering server's SIGTERM). */
  readonly signal: AbortSignal;
  /** Pause after the first failed try, doubled up to maxBackoffMs (default 1000 ms). */
  readonly backoffMs?: number;
  /** Longest pause between tries (default 15 000 ms). */
  readonly maxBackoffMs?: number;
  /** Told every poll answered with the end (answerPollsWithEnd), as the server's services tell theirs. */
  readonly onRequest?: RequestObserver;
  /** Told every message of the polls answered with the end and their replies (answerPollsWithEnd). */
  readonly onTraffic?: TrafficObserver;
  /** Told every poll refused with an error reply (answerPollsWithEnd). */
  readonly onBadFrame?: BadFrameObserver;
}

/** The pause after failed try `attempt`: backoffMs doubled each time, up to maxBackoffMs. */
function backoffMs(o: DeliveryOptions, attempt: number): number {
  return Math.min(o.maxBackoffMs ?? 15_000, (o.backoffMs ?? 1000) * 2 ** (attempt - 1));
}

/**
 * Sends `pending.event` and writes `pending.state` until both are stored, `o.signal` aborts or the
 * connection closes. Never rejects: what cannot be stored is logged. A state another writer replaced
 * meanwhile (a newer server) is left alone.
 */
export async function deliverJobEnd(
  nc: NatsConnection,
  job: string,
  pending: PendingEnd,
  o: DeliveryOptions,
): Promise<void> {
  let { event, state } = pending;
  const started = Date.now();
  for (let attempt = 1; event !== undefined || state !== undefined; attempt++) {
    if (o.signal.aborted || nc.isClosed()) {
      o.logger.log("warn", "job-end-undelivered", {
        ...(event ? { type: event.type } : {}),
        roundState: state?.state.phase,
        attempts: attempt - 1,
        hint: "the server stopped before NATS took the job's end; the job's status may not show it",
      });
      return;
    }
    try {
      if (event !== undefined) {
        await publishEvent(nc, event);
        o.logger.log("info", "job-end-delivered", {
          type: event.type,
          attempts: attempt,
          afterMs: Date.now() - started,
        });
        event = undefined;
      }
      if (state !== undefined) {
        await (await openRoundState(nc, job)).put(state.state, state.revision);
        o.logger.log("info", "round-state-delivered", { phase: state.state.phase, attempts: attempt });
        state = undefined;
      }
    } catch (error) {
      if (error instanceof EventSchemaError) {
        o.logger.log("error", "job-end-invalid", { error });
        event = undefined;
      } else if (error instanceof RoundStateConflictError) {
        // another coordinator wrote the job's state since: it is newer than this server's end
        state = undefined;
      } else {
        const waitMs = backoffMs(o, attempt);
        o.logger.log(attempt === 1 ? "warn" : "debug", "job-end-retry", { attempt, waitMs, error });
        await pause(waitMs, o.signal);
      }
    }
  }
}

/** What a lingering server answers every poll: the job's end, under its attempt. */
export function endedPollReply(end: ProgressEvent | { reason: string; message: string }): PollReply {
  const attempt = "attempt" in end && end.attempt !== undefined ? { attempt: end.attempt } : {};
  if ("type" in end && end.type === "job.finished") return { action: "done", ...attempt };
  const failed = end as { reason: string; message: string };
  return { action: "failed", reason: failed.reason, message: failed.message, ...attempt };
}

/** A round the run aggregated and whose uploads it took (a finished job's run result rows). */
export type AggregatedUploads = Pick<RoundMetrics, "round" | "participants">;

/** Why a lingering server refuses an upload: the job's end, not just a round's. */
export const JOB_ENDED = "job-ended";

/**
 * What a lingering server answers on each of the job's control subjects: a poll gets the end; a
 * request for a round's global parameters or an upload gets what the running job gives once no round
 * is open (`closed`, not accepted with reason job-ended), so that the client polls and gets the end;
 * an upload of a round in `aggregated` from one of its participants is accepted (`duplicate`).
 */
function endedReplies(
  subjects: ReturnType<typeof jobSubjects>,
  reply: PollReply,
  aggregated: readonly AggregatedUploads[],
) {
  return [
    { subject: subjects.roundReport, handler: (): ReplyInit => ({ kind: "control", meta: meta(reply) }) },
    {
      subject: subjects.paramsGlobal,
      handler: (req: DecodedFrame): ReplyInit => {
        const { round } = readMeta(ParamsRequestSchema, req, "params request");
        return { kind: "parameters", meta: { round, status: "closed" } };
      },
    },
    {
      subject: subjects.paramsUpload,
      handler: (req: DecodedFrame): ReplyInit => {
        const { round } = readMeta(UploadMetaSchema, req, "upload");
        // sent again after its reply went with a connection: the update is in the round, as a running
        // round answers a repeat (OpenRound.accept), so the client counts it instead of a refusal
        if (aggregated.some((r) => r.round === round && r.participants.includes(req.header.client)))
          return { kind: "control", meta: { accepted: true, reason: "duplicate" } };
        return { kind: "control", meta: { accepted: false, reason: JOB_ENDED } };
      },
    },
  ];
}

/**
 * Answers the clients' requests on the job's control subjects with the end until `o.signal` aborts
 * (endedReplies): a client that starts, or comes back, after the job ended learns it from the server
 * instead of polling, or asking for parameters, for good. A frame of another job or from a client
 * the job does not have is refused as the job's running services refused it (unknown-job,
 * unknown-client: the same check, the same count). Subscriptions NATS did not confirm
 * (disconnected) are tried again with backoff. Never rejects.
 */
export async function answerPollsWithEnd(
  nc: NatsConnection,
  config: RunConfig,
  reply: PollReply,
  o: DeliveryOptions,
  aggregated: readonly AggregatedUploads[] = [],
): Promise<void> {
  const job = config.names.job;
  const clients = clientNames(config);
  const common = {
    job,
    isKnownClient: (c: string) => isJobClient(clients, c),
    ...observeResponses(job, o.onRequest),
    // its observer is what counts (the pod's /metrics); nobody reads its entries
    ...(o.onTraffic ? { ledger: new TrafficLedger(o.onTraffic, observerErrorsTo(o.logger)) } : {}),
    // its hooks' failures and its refusals in the lingering server's log, as its services had them
    log: responderLog(o.logger),
    ...(o.onBadFrame ? { onBadFrame: o.onBadFrame } : {}),
  };
  const responders: FrameResponder[] = [];
  for (const service of endedReplies(jobSubjects(job), reply, aggregated)) {
    for (let attempt = 1; ; attempt++) {
      if (o.signal.aborted || nc.isClosed()) return stopAll(responders);
      try {
        responders.push(await serveFrames(nc, { ...common, ...service }));
        break;
      } catch (error) {
        const waitMs = backoffMs(o, attempt);
        o.logger.log(attempt === 1 ? "warn" : "debug", "end-replies-retry", { attempt, waitMs, error });
        await pause(waitMs, o.signal);
      }
    }
  }
  o.logger.log("info", "end-replies", { action: reply.action });
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    else o.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await stopAll(responders);
}

async function stopAll(responders: readonly FrameResponder[]): Promise<void> {
  await Promise.all(responders.map((r) => r.stop().catch(() => undefined)));
}
