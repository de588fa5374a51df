// The traffic planner: the bytes and messages each round of a job sends, per kind and direction, as
// the server's ledger counts them (frame header + payload of every NATS message, by the frame's round).
import type { RunConfig } from "@sfprompt/api";
import { FRAME_KINDS, type FrameKind } from "@sfprompt/protocol";
import { Rng, deriveSeed } from "../datasets/rng.js";
import { clientName } from "../runtime/client-names.js";
import { TrafficPlanError } from "./errors.js";
import { ExchangeSizer, type SizedExchange } from "./frame-bytes.js";
import { keptSamples, pollExchange, roundExchanges } from "./round-exchanges.js";
import type { TrafficShapes } from "./traffic-shapes.js";

/** Bytes and messages of one kind: up = client → server (server received), down = server → client. */
export interface KindTraffic {
  up: number;
  down: number;
  upMessages: number;
  downMessages: number;
}

export type TrafficByKind = Record<FrameKind, KindTraffic>;

/** Traffic of a set of frames (a round, or what follows the last round). */
export interface TrafficTotals {
  readonly byKind: TrafficByKind;
  readonly up: number;
  readonly down: number;
  readonly total: number;
}

export interface PlannedRound extends TrafficTotals {
  readonly round: number;
  readonly clients: readonly string[];
  /** Samples the selected clients run split (or whole-model) training on, summed. */
  readonly kept: number;
}

export interface MethodTrafficPlan {
  readonly method: RunConfig["method"];
  readonly rounds: readonly PlannedRound[];
  /** The clients' last polls, answered "done" (keyed after the last round: in no round's metrics). */
  readonly afterLastRound: TrafficTotals;
  /** Mean bytes of a round. */
  readonly perRound: number;
  /** Sum over the rounds: what `sfprompt run` reports as the job's bytes. */
  readonly total: number;
}

export interface MethodPlanInput {
  /** The method's run config (its own job name: frame headers carry it). */
  readonly config: RunConfig;
  readonly shapes: TrafficShapes;
  /** |D_k| of client k, for every client of the job. */
  readonly samplesPerClient: readonly number[];
  /** The NATS server's max_payload (default: the config's transport.maxPayload). */
  readonly maxPayload?: number;
  /** Shared between plans so that equal frames are encoded once. */
  readonly sizer?: ExchangeSizer;
}

export function emptyByKind(): TrafficByKind {
  return Object.fromEntries(
    FRAME_KINDS.map((k) => [k, { up: 0, down: 0, upMessages: 0, downMessages: 0 }]),
  ) as TrafficByKind;
}

function addSized(into: TrafficByKind, x: SizedExchange, times = 1): void {
  for (const c of x.up) {
    into[c.kind].up += c.bytes * times;
    into[c.kind].upMessages += c.messages * times;
  }
  for (const c of x.down) {
    into[c.kind].down += c.bytes * times;
    into[c.kind].downMessages += c.messages * times;
  }
}

export function totalsOf(byKind: TrafficByKind): TrafficTotals {
  let up = 0;
  let down = 0;
  for (const k of FRAME_KINDS) {
    up += byKind[k].up;
    down += byKind[k].down;
  }
  return { byKind, up, down, total: up + down };
}

/**
 * The clients the coordinator selects in `round` when every client is ready: all of them, or
 * clients.perRound drawn with the job's seed exactly as the coordinator draws them.
 */
export function selectedClients(config: RunConfig, round: number): string[] {
  const ready = Array.from({ length: config.clients.count }, (_, i) => clientName(i)).sort();
  const { perRound } = config.clients;
  if (perRound >= ready.length) return ready;
  const rng = new Rng(deriveSeed(config.training.seed, 0x73656c, round, 0));
  return rng
    .shuffle(ready.map((_, i) => i))
    .slice(0, perRound)
    .map((i) => ready[i]!)
    .sort();
}

function indexOf(client: string): number {
  return Number(client.slice(client.lastIndexOf("-") + 1));
}

/** Plans every round of the job for its method; the centralised baseline sends nothing. */
export function planMethodTraffic(input: MethodPlanInput): MethodTrafficPlan {
  const { config, shapes, samplesPerClient } = input;
  if (samplesPerClient.length !== config.clients.count) {
    throw new TrafficPlanError(
      "samplesPerClient",
      `has ${samplesPerClient.length} entries but the job has ${config.clients.count} clients`,
    );
  }
  const sizer = input.sizer ?? new ExchangeSizer(input.maxPayload ?? config.transport.maxPayload);
  const byRound = new Map<number, TrafficByKind>();
  const at = (r: number): TrafficByKind => {
    let t = byRound.get(r);
    if (t === undefined) byRound.set(r, (t = emptyByKind()));
    return t;
  };
  const lastRound = new Map<string, number>();
  const rounds: { round: number; clients: string[]; kept: number }[] = [];
  const R = config.method === "centralized" ? 0 : config.training.rounds;
  for (let round = 1; round <= R; round++) {
    const clients = selectedClients(config, round);
    let kept = 0;
    for (const client of clients) {
      const n = samplesPerClient[indexOf(client)]!;
      kept += keptSamples(config, n);
      // the poll is counted under (the client's last round + 1), every other frame under `round`
      for (const x of roundExchanges(config, shapes, client, round, n, lastRound.get(client) ?? 0))
        addSized(at(x.round), sizer.size(x), x.times);
      lastRound.set(client, round);
    }
    rounds.push({ round, clients, kept });
  }
  // every client of a federated job hears "done" at the end, selected or not
  const end = emptyByKind();
  for (let i = 0; R > 0 && i < config.clients.count; i++) {
    const client = clientName(i);
    addSized(end, sizer.size(pollExchange(config, client, lastRound.get(client) ?? 0, { action: "done" })));
  }
  const planned = rounds.map((r) => ({ ...r, ...totalsOf(at(r.round)) }));
  const total = planned.reduce((n, r) => n + r.total, 0);
  return {
    method: config.method,
    rounds: planned,
    afterLastRound: totalsOf(end),
    perRound: planned.length === 0 ? 0 : total / planned.length,
    total,
  };
}
