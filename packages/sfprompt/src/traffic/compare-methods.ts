// Plans one job under each federated method and compares them: bytes per round and in total, the
// ratios to SFL + prompt and FL full fine-tuning, and the break-even sample count against FL full.
import { toRunConfig, type Method, type RunConfig, type SFPromptJob } from "@sfprompt/api";
import { ExchangeSizer } from "./frame-bytes.js";
import { planMethodTraffic, type MethodTrafficPlan, type TrafficByKind } from "./plan-traffic.js";
import { keptSamples } from "./round-exchanges.js";
import { weightCount, type TrafficShapes, type WireTensor } from "./traffic-shapes.js";

/** The methods that cross the network, in the order reports list them. */
export const TRAFFIC_METHODS = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full"] as const;
export type TrafficMethod = (typeof TRAFFIC_METHODS)[number];

export interface MethodTraffic {
  readonly method: TrafficMethod;
  readonly perRound: number;
  /** Sum over the rounds (what `sfprompt run` reports). */
  readonly total: number;
  /** The last "done" polls, after the last round. */
  readonly afterLastRound: number;
  /** Bytes per kind over all rounds, both directions. */
  readonly byKind: Record<keyof TrafficByKind, number>;
  /** total / SFL + prompt's total. */
  readonly vsSflPrompt: number;
  /** total / FL full fine-tuning's total. */
  readonly vsFlFull: number;
  readonly plan: MethodTrafficPlan;
}

export interface BreakEven {
  /** Largest kept samples per client per round for which SFPrompt sends less than FL full; 0: never. */
  readonly keptPerClient: number;
  /** The samples per client (before pruning) that keep that many. */
  readonly samplesPerClient: number;
  /** At those sample counts (one round, every client selected). */
  readonly sfpromptPerRound: number;
  readonly flFullPerRound: number;
}

export interface TrafficComparison {
  /** The job as its manifest names it: metadata.name, or namespace/name when it sets a namespace. */
  readonly job: string;
  readonly clients: number;
  readonly clientsPerRound: number;
  readonly rounds: number;
  readonly samplesPerClient: readonly number[];
  readonly maxPayload: number;
  readonly compression: RunConfig["compression"];
  readonly gamma: number;
  readonly shapes: {
    readonly headOutput: readonly number[];
    readonly bodyOutput: readonly number[];
    /** A text model's masks beside a_h on body.fwd (int64, raw), per sample; none for images. */
    readonly bodyMasks: readonly WireTensor[];
    readonly promptTailWeights: number;
    readonly wholeModelWeights: number;
  };
  readonly methods: readonly MethodTraffic[];
  readonly breakEven: BreakEven;
}

/**
 * The run config of `job` under `method`, named as `sfprompt run --compare` names its baselines
 * (<name>-<method>: the job token is in every frame header, so its length counts).
 */
export function methodRunConfig(job: SFPromptJob, method: Method): RunConfig {
  if (method === job.spec.method) return toRunConfig(job);
  const copy = structuredClone(job);
  copy.metadata.name = `${job.metadata.name}-${method}`;
  copy.spec.method = method;
  return toRunConfig(copy);
}

export interface CompareInput {
  readonly job: SFPromptJob;
  readonly shapes: TrafficShapes;
  readonly samplesPerClient: readonly number[];
  /** The server's max_payload (default the job's spec.transport.maxPayload). */
  readonly maxPayload?: number;
  /** Reused across comparisons of the same model, so its frames are encoded once (same max_payload). */
  readonly sizer?: ExchangeSizer;
}

/** Plans the job under every method that crosses the network and compares them. */
export function compareMethodTraffic(input: CompareInput): TrafficComparison {
  const { job, shapes, samplesPerClient } = input;
  const maxPayload = input.maxPayload ?? job.spec.transport.maxPayload;
  const sizer = input.sizer?.maxPayload === maxPayload ? input.sizer : new ExchangeSizer(maxPayload);
  const plans = TRAFFIC_METHODS.map((method) =>
    planMethodTraffic({ config: methodRunConfig(job, method), shapes, samplesPerClient, sizer }),
  );
  const totalOf = (m: TrafficMethod): number => plans[TRAFFIC_METHODS.indexOf(m)]!.total;
  const methods = plans.map((plan, i) => ({
    method: TRAFFIC_METHODS[i]!,
    perRound: plan.perRound,
    total: plan.total,
    afterLastRound: plan.afterLastRound.total,
    byKind: kindTotals(plan),
    vsSflPrompt: ratio(plan.total, totalOf("sfl-prompt")),
    vsFlFull: ratio(plan.total, totalOf("fl-full")),
    plan,
  }));
  const config = methodRunConfig(job, "sfprompt");
  return {
    // the job as its user names it (kubectl's namespace/name), not the NATS token "default_minimal"
    job:
      job.metadata.namespace === undefined
        ? job.metadata.name
        : `${job.metadata.namespace}/${job.metadata.name}`,
    clients: config.clients.count,
    clientsPerRound: config.clients.perRound,
    rounds: config.training.rounds,
    samplesPerClient,
    maxPayload,
    compression: config.compression,
    gamma: config.training.pruning.gamma,
    shapes: {
      headOutput: shapes.headOutput.shape,
      bodyOutput: shapes.bodyOutput.shape,
      bodyMasks: shapes.bodyMasks,
      promptTailWeights: weightCount(shapes.promptTail),
      wholeModelWeights: weightCount(shapes.wholeModel),
    },
    methods,
    breakEven: breakEven(job, shapes, sizer),
  };
}

function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

function kindTotals(plan: MethodTrafficPlan): Record<keyof TrafficByKind, number> {
  const out = { activation: 0, gradient: 0, parameters: 0, control: 0 };
  for (const r of plan.rounds)
    for (const k of Object.keys(out) as (keyof typeof out)[]) out[k] += r.byKind[k].up + r.byKind[k].down;
  return out;
}

/**
 * One round with every client selected and holding `n` samples: SFPrompt's bytes against FL full's.
 * The largest n (by doubling, then bisection) for which SFPrompt sends less is the break-even.
 */
export function breakEven(job: SFPromptJob, shapes: TrafficShapes, sizer: ExchangeSizer): BreakEven {
  const one = structuredClone(job);
  one.spec.training.rounds = 1;
  const sfp = methodRunConfig(one, "sfprompt");
  const full = methodRunConfig(one, "fl-full");
  const clients = sfp.clients.count;
  const cost = (cfg: RunConfig, n: number): number =>
    planMethodTraffic({
      config: { ...cfg, clients: { count: clients, perRound: clients } },
      shapes,
      samplesPerClient: new Array<number>(clients).fill(n),
      sizer,
    }).total;
  const cheaper = (n: number): boolean => cost(sfp, n) < cost(full, n);
  const at = (n: number): BreakEven => ({
    keptPerClient: n === 0 ? 0 : keptSamples(sfp, n),
    samplesPerClient: n,
    sfpromptPerRound: cost(sfp, Math.max(n, 1)),
    flFullPerRound: cost(full, Math.max(n, 1)),
  });
  if (!cheaper(1)) return at(0);
  let lo = 1;
  let hi = 2;
  while (cheaper(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e8) return at(lo); // SFPrompt is cheaper at any realistic size
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (cheaper(mid)) lo = mid;
    else hi = mid;
  }
  return at(lo);
}
