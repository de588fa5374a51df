// The coordinator's three request/reply services: round.report (long-poll for work and client state
// reports), params.global (the global parameters of the round) and params.upload (a client's update).
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import {
  checkTensors,
  jobSubjects,
  serveFrames,
  tensorByName,
  type BadFrameObserver,
  type DecodedFrame,
  type FrameResponder,
  type ReplyInit,
  type TrafficLedger,
} from "@sfprompt/protocol";
import {
  ParamsRequestSchema,
  PollReplySchema,
  ReportRequestSchema,
  UploadMetaSchema,
  meta,
  readMeta,
  type PollReply,
} from "../runtime/messages.js";
import { responderLog, type Logger } from "../runtime/logger.js";
import { observeResponses, type RequestObserver } from "../runtime/request-ops.js";
import type { ParamSet } from "../training/param-set.js";
import type { EventPublisher } from "./events.js";
import type { ClientRegistry } from "./registry.js";
import type { OpenRound } from "./round.js";

/** What the services read from and tell the coordinator. */
export interface CoordinatorView {
  readonly config: RunConfig;
  readonly registry: ClientRegistry;
  readonly events: EventPublisher;
  readonly logger: Logger;
  readonly pollWaitMs: number;
  readonly signal?: AbortSignal;
  openRound(): OpenRound | undefined;
  global(): ParamSet;
  finished(): boolean;
  /** The run's attempt (undefined until known), in every poll reply. */
  attempt(): string | undefined;
}

export interface ControlServices {
  readonly responders: readonly FrameResponder[];
  stop(): Promise<void>;
}

/**
 * Decodes the parameters of an upload in the global layout's order. The upload must carry exactly the
 * layout's tensors, float32 and of the same shapes: else FrameShapeError/FrameDtypeError (a bad-shape
 * or bad-dtype reply, which the client does not retry), since a transposed tensor or one the model
 * lacks comes from another model version and cannot be averaged.
 */
export function paramsFromFrame(frame: DecodedFrame, layout: ParamSet): ParamSet {
  const specs = [...layout].map(([name, t]) => ({ name, dtype: "float32" as const, shape: t.shape }));
  checkTensors(frame, specs);
  const out: ParamSet = new Map();
  for (const [name, t] of layout) {
    out.set(name, { data: tensorByName(frame, name).data as Float32Array, shape: [...t.shape] });
  }
  return out;
}

// A selected client without an upload in this open round trains it, whatever round it last finished:
// after a server restart from an older checkpoint, or a round run again for want of a quorum, the
// round's earlier uploads are gone and the clients that made them are needed again.
function workFor(v: CoordinatorView, client: string): PollReply | undefined {
  if (v.finished()) return { action: "done", ...attemptOf(v) };
  const open = v.openRound();
  if (open === undefined || open.closed || !open.isSelected(client) || open.uploads.has(client))
    return undefined;
  return {
    action: "train",
    round: open.round,
    deadline: open.deadline.toISOString(),
    rounds: v.config.training.rounds,
    ...attemptOf(v),
  };
}

function attemptOf(v: CoordinatorView): { attempt?: string } {
  const attempt = v.attempt();
  return attempt === undefined ? {} : { attempt };
}

// Client states are queued on the event stream, not awaited: a publish the stream is slow to
// acknowledge (and retries) must not hold back the reply the client waits for.
async function onReport(v: CoordinatorView, req: DecodedFrame): Promise<ReplyInit> {
  const m = readMeta(ReportRequestSchema, req, "round report");
  const client = req.header.client;
  if (m.op === "state") {
    if (v.registry.setState(client, m.state)) {
      void v.events.publish({
        type: "client.state",
        client,
        state: m.state,
        round: m.round,
        ...(m.reason ? { reason: m.reason } : {}),
      });
    }
    return { kind: "control", meta: { action: "ok" } };
  }
  if (v.registry.touch(client)) void v.events.publish({ type: "client.state", client, state: "connected" });
  v.registry.polling(client, 1);
  try {
    const until = Date.now() + v.pollWaitMs;
    for (;;) {
      const work = workFor(v, client);
      if (work !== undefined) {
        if (work.action === "done" && v.registry.setState(client, "done")) {
          void v.events.publish({ type: "client.state", client, state: "done" });
        }
        return { kind: "control", meta: meta(PollReplySchema.parse(work)) };
      }
      if (Date.now() >= until || v.signal?.aborted === true)
        return { kind: "control", meta: meta({ action: "wait", ...attemptOf(v) }) };
      await v.registry.waitChange(until - Date.now(), v.signal);
    }
  } finally {
    v.registry.polling(client, -1);
  }
}

function onParams(v: CoordinatorView, req: DecodedFrame): ReplyInit {
  const m = readMeta(ParamsRequestSchema, req, "params request");
  const open = v.openRound();
  if (open === undefined || open.closed || open.round !== m.round || !open.isSelected(req.header.client)) {
    return { kind: "parameters", meta: { round: m.round, status: "closed" } };
  }
  const codec = v.config.compression.parametersDown;
  const tensors = [...v.global()].map(([name, t]) => ({
    name,
    dtype: "float32" as const,
    shape: t.shape,
    data: t.data,
    codec,
  }));
  return { kind: "parameters", meta: { round: m.round, status: "ok" }, tensors };
}

function onUpload(v: CoordinatorView, req: DecodedFrame): ReplyInit {
  const m = readMeta(UploadMetaSchema, req, "upload");
  const client = req.header.client;
  const open = v.openRound();
  if (open === undefined) return { kind: "control", meta: { accepted: false, reason: "round-closed" } };
  const reply = open.accept(client, paramsFromFrame(req, v.global()), m);
  v.logger.log("info", "upload", { client, round: m.round, samples: m.samples, ...reply });
  if (reply.accepted && v.registry.setState(client, "idle")) {
    void v.events.publish({ type: "client.state", client, state: "idle", round: m.round });
  }
  return { kind: "control", meta: meta(reply) };
}

/** What the services tell as they answer: request latencies and error replies (the pod's /metrics). */
export interface ServiceHooks {
  readonly onRequest?: RequestObserver;
  readonly onBadFrame?: BadFrameObserver;
}

/** Starts the three services; stop() them on shutdown. */
export async function startControlServices(
  nc: NatsConnection,
  v: CoordinatorView,
  ledger: TrafficLedger,
  hooks: ServiceHooks = {},
): Promise<ControlServices> {
  const subjects = jobSubjects(v.config.names.job);
  const common = {
    job: v.config.names.job,
    isKnownClient: (c: string) => v.registry.isKnown(c),
    ledger,
    log: responderLog(v.logger),
    ...observeResponses(v.config.names.job, hooks.onRequest),
    ...(hooks.onBadFrame ? { onBadFrame: hooks.onBadFrame } : {}),
  };
  const responders = await Promise.all([
    serveFrames(nc, { ...common, subject: subjects.roundReport, handler: (r) => onReport(v, r) }),
    serveFrames(nc, { ...common, subject: subjects.paramsGlobal, handler: (r) => onParams(v, r) }),
    serveFrames(nc, { ...common, subject: subjects.paramsUpload, handler: (r) => onUpload(v, r) }),
  ]);
  return {
    responders,
    async stop() {
      await Promise.all(responders.map((r) => r.stop()));
    },
  };
}
