// What one selected client and the server exchange in one round, per method, as the runtime sends it
// (client/client.ts, client/body-link.ts, client/trainer.ts, server/control-service.ts and
// server/body-service.ts): poll, global parameters, state reports, body forward/backward per batch,
// upload; a text model's masks ride on every body forward. A change to what those files send must be
// mirrored here; test/traffic checks the two agree.
import type { RunConfig } from "@sfprompt/api";
import { jobSubjects, type FrameMeta } from "@sfprompt/protocol";
import { gradName } from "../client/body-link.js";
import { el2nKeepCount } from "../training/el2n.js";
import type { ExchangeSpec, FrameSpec, TensorOnWire } from "./frame-bytes.js";
import type { TrafficShapes, WireTensor } from "./traffic-shapes.js";

/** An exchange that happens `times` times (equal batches of an epoch). */
export interface RepeatedExchange extends ExchangeSpec {
  readonly times: number;
}

/**
 * Values the upload's meta carries that only the run knows (the mean losses and the FLOPs as JSON
 * numbers): the planner writes these typical ones, so an upload may differ from a real one by the
 * difference in digits, a few bytes per upload message (see docs/traffic.md).
 */
export const UPLOAD_META_PLACEHOLDERS = { loss: 0.6931471805599453, flops: 1e10 } as const;
/** A deadline as the coordinator writes it (an ISO time: always 24 characters). */
const DEADLINE = "2026-01-01T00:00:00.000Z";
/**
 * A run's attempt as the server writes it in every poll reply once it knows it (ADR 0036): 16 hex
 * characters. Polls answered before the server chose where to go on from carry none.
 */
export const ATTEMPT_PLACEHOLDER = "0123456789abcdef";

/** What the trainer keeps for split training out of `samples` (EL2N pruning when the method prunes). */
export function keptSamples(config: RunConfig, samples: number): number {
  if (!config.effective.pruning) return samples;
  const { gamma } = config.training.pruning;
  return el2nKeepCount(samples, { gamma, batchSize: config.training.batchSize });
}

/** The state reports a client sends in a round, in order (trainer.onState, then "uploading"). */
export function roundStates(config: RunConfig): string[] {
  const e = config.effective;
  const states: string[] = [];
  if (e.localLoss && config.training.localEpochs > 0) states.push("local-update");
  if (e.pruning) states.push("pruning");
  return [...states, "split-training", "uploading"];
}

function control(meta: FrameMeta): FrameSpec {
  return { kind: "control", meta, tensors: [] };
}

function layout(params: readonly WireTensor[], codec: TensorOnWire["codec"]): TensorOnWire[] {
  return params.map((p) => ({ name: p.name, shape: p.shape, codec }));
}

/** The global parameters' layout of the method: all weights (fl-full) or prompt + tail. */
export function globalLayout(config: RunConfig, shapes: TrafficShapes): readonly WireTensor[] {
  return config.effective.trainAllWeights ? shapes.wholeModel : shapes.promptTail;
}

/** A poll answered `reply` (train, wait, done) by the coordinator, with the run's attempt. */
export function pollExchange(
  config: RunConfig,
  client: string,
  lastRound: number,
  reply: FrameMeta,
): ExchangeSpec {
  const job = config.names.job;
  return {
    subject: jobSubjects(job).roundReport,
    job,
    client,
    round: lastRound + 1,
    request: control({ op: "poll", lastRound }),
    reply: control({ ...reply, attempt: ATTEMPT_PLACEHOLDER }),
  };
}

/**
 * Everything one selected client sends and receives in round `round`, starting with the poll that
 * handed it the round (sent with the last round the client took part in, default round − 1).
 */
export function roundExchanges(
  config: RunConfig,
  shapes: TrafficShapes,
  client: string,
  round: number,
  samples: number,
  lastRound = round - 1,
): RepeatedExchange[] {
  const job = config.names.job;
  const s = jobSubjects(job);
  const c = config.compression;
  const params = globalLayout(config, shapes);
  const at = { job, client, round };
  const kept = keptSamples(config, samples);
  const out: RepeatedExchange[] = [
    {
      ...pollExchange(config, client, lastRound, {
        action: "train",
        round,
        deadline: DEADLINE,
        rounds: config.training.rounds,
      }),
      times: 1,
    },
    {
      ...at,
      times: 1,
      subject: s.paramsGlobal,
      request: control({ round }),
      reply: { kind: "parameters", meta: { round, status: "ok" }, tensors: layout(params, c.parametersDown) },
    },
  ];
  for (const state of roundStates(config)) {
    out.push({
      ...at,
      times: 1,
      subject: s.roundReport,
      request: control({ op: "state", state, round }),
      reply: control({ action: "ok" }),
    });
  }
  if (config.effective.splitTraining) out.push(...bodyExchanges(config, shapes, client, round, kept));
  const p = UPLOAD_META_PLACEHOLDERS;
  const localLoss = config.effective.localLoss && config.training.localEpochs > 0 ? p.loss : undefined;
  const meta: FrameMeta = { round, samples, kept, loss: p.loss };
  if (localLoss !== undefined) meta.localLoss = localLoss;
  meta.flops = p.flops;
  out.push({
    ...at,
    times: 1,
    subject: s.paramsUpload,
    request: { kind: "parameters", meta, tensors: layout(params, c.parametersUp) },
    reply: control({ accepted: true }),
  });
  return out;
}

/** Body forward (and backward, when the prompt gradient crosses the network) for every batch. */
function bodyExchanges(
  config: RunConfig,
  shapes: TrafficShapes,
  client: string,
  round: number,
  kept: number,
): RepeatedExchange[] {
  const s = jobSubjects(config.names.job);
  const c = config.compression;
  const { batchSize, splitEpochs } = config.training;
  const backward = config.effective.promptGradientOverNetwork && shapes.promptCount > 0;
  const h = shapes.headOutput;
  const b = shapes.bodyOutput;
  const at = { job: config.names.job, client, round };
  // an epoch is ⌊kept/B⌋ full batches and one partial batch of the rest (batching.ts keeps the last)
  const full = Math.floor(kept / batchSize);
  const groups = [
    { n: batchSize, times: full * splitEpochs },
    { n: kept - full * batchSize, times: splitEpochs },
  ].filter((g) => g.n > 0 && g.times > 0);
  const out: RepeatedExchange[] = [];
  for (const { n, times } of groups) {
    out.push({
      ...at,
      times,
      subject: s.bodyForward,
      request: {
        kind: "activation",
        meta: {},
        // a text model's body reads the attention mask too: int64, raw, beside a_h (remoteBody)
        tensors: [batched(h, n, c.activationsUp), ...shapes.bodyMasks.map((m) => mask(m, n))],
      },
      reply: { kind: "activation", meta: {}, tensors: [batched(b, n, c.activationsDown)] },
    });
    if (!backward) continue;
    out.push({
      ...at,
      times,
      subject: s.bodyBackward,
      request: {
        kind: "gradient",
        meta: {},
        tensors: [batched({ ...b, name: gradName(b.name) }, n, c.gradientsUp)],
      },
      reply: {
        kind: "gradient",
        meta: {},
        tensors: [batched({ ...h, name: gradName(h.name) }, n, c.gradientsDown)],
      },
    });
  }
  return out;
}

function batched(t: WireTensor, batch: number, codec: TensorOnWire["codec"]): TensorOnWire {
  return { name: t.name, shape: [batch, ...t.shape], codec };
}

function mask(t: WireTensor, batch: number): TensorOnWire {
  return { ...batched(t, batch, "raw"), dtype: "int64" };
}
