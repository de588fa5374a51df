// FedAvg (McMahan et al. 2017) of the clients' uploaded prompts and tails, weighted by their sample
// counts |D_k|; a streaming accumulator so the server keeps one running sum instead of every upload.
import { AggregationError, TrainingArgumentError, ParamSetMismatchError } from "./errors.js";
import { assertSameLayout, type ParamSet, type ParamTensor } from "./param-set.js";

/** One client's contribution to a round. */
export interface ClientUpload {
  readonly clientId: string;
  readonly params: ParamSet;
  /** |D_k|: the number of local samples the weights are proportional to. */
  readonly samples: number;
}

/**
 * Running weighted sum in float64 (float32 sums over many clients would lose the small updates),
 * divided by the total weight when the round closes.
 */
export class FedAvgAccumulator {
  private readonly sums = new Map<string, Float64Array>();
  private readonly shapes = new Map<string, readonly number[]>();
  private layout: ParamSet | undefined;
  private readonly seen = new Set<string>();
  private total = 0;

  /** `layout` (values ignored) fixes the expected names and shapes; else the first upload does. */
  constructor(layout?: ParamSet) {
    if (layout) this.setLayout(layout);
  }

  private setLayout(layout: ParamSet): void {
    this.layout = layout;
    for (const [name, t] of layout) {
      this.sums.set(name, new Float64Array(t.data.length));
      this.shapes.set(name, [...t.shape]);
    }
  }

  /** Clients added so far. */
  get clients(): number {
    return this.seen.size;
  }

  /** Σ |D_k| so far. */
  get totalSamples(): number {
    return this.total;
  }

  /** Adds one upload; throws AggregationError naming the client (and parameter) when it does not fit. */
  add(upload: ClientUpload): void {
    const { clientId, params, samples } = upload;
    if (this.seen.has(clientId)) {
      throw new AggregationError(
        `client '${clientId}' uploaded twice in one round; keep the first`,
        clientId,
        undefined,
      );
    }
    if (!Number.isFinite(samples) || samples < 0) {
      throw new AggregationError(
        `client '${clientId}' reports ${samples} samples: must be ≥ 0`,
        clientId,
        undefined,
      );
    }
    if (!this.layout) this.setLayout(params);
    try {
      assertSameLayout(this.layout as ParamSet, params, "the global model", `client '${clientId}'`);
    } catch (err) {
      if (!(err instanceof ParamSetMismatchError)) throw err;
      throw new AggregationError(
        `${err.message}; the client runs another model version`,
        clientId,
        err.param,
        {
          cause: err,
        },
      );
    }
    checkFinite(clientId, params);
    for (const [name, t] of params) addScaled(this.sums.get(name) as Float64Array, t.data, samples);
    this.seen.add(clientId);
    this.total += samples;
  }

  /** The weighted average; throws when nothing (or only zero weight) was added. */
  result(): ParamSet {
    if (this.seen.size === 0 || !this.layout) {
      throw new TrainingArgumentError("FedAvg of zero uploads: no client finished the round", "uploads");
    }
    if (!(this.total > 0)) {
      throw new TrainingArgumentError(
        "FedAvg with total sample count 0: every upload has weight 0",
        "samples",
      );
    }
    const out: ParamSet = new Map();
    for (const [name, sum] of this.sums) {
      const data = new Float32Array(sum.length);
      for (let i = 0; i < sum.length; i++) data[i] = (sum[i] as number) / this.total;
      out.set(name, { data, shape: [...(this.shapes.get(name) as readonly number[])] });
    }
    return out;
  }
}

function addScaled(sum: Float64Array, data: Float32Array, w: number): void {
  for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + w * (data[i] as number);
}

function checkFinite(clientId: string, params: ParamSet): void {
  for (const [name, t] of params as Map<string, ParamTensor>) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i] as number)) {
        throw new AggregationError(
          `client '${clientId}' parameter '${name}' holds ${d[i]} at index ${i}: its training diverged`,
          clientId,
          name,
        );
      }
    }
  }
}

/** Weighted average of all uploads at once (same checks as the accumulator). */
export function fedAvg(uploads: readonly ClientUpload[], layout?: ParamSet): ParamSet {
  const acc = new FedAvgAccumulator(layout);
  for (const u of uploads) acc.add(u);
  return acc.result();
}

/** A round's quorum: exactly one of a fraction of the selected clients or a fixed count (the api's shape). */
export interface Quorum {
  readonly fraction?: number | undefined;
  readonly count?: number | undefined;
}

/** Quorum outcome: how many uploads are needed and whether `received` meets it. */
export interface QuorumStatus {
  readonly needed: number;
  readonly received: number;
  readonly met: boolean;
}

/** Uploads needed out of `selected`: ⌈fraction·selected⌉ (at least 1) or min(count, selected). */
export function quorumNeeded(selected: number, quorum: Quorum): number {
  if (!Number.isInteger(selected) || selected < 1) {
    throw new TrainingArgumentError(`selected clients must be an integer ≥ 1, got ${selected}`, "selected");
  }
  const { fraction: f, count: c } = quorum;
  if ((f === undefined) === (c === undefined)) {
    throw new TrainingArgumentError("quorum needs exactly one of fraction or count", "quorum");
  }
  if (f !== undefined) {
    if (!(f > 0 && f <= 1))
      throw new TrainingArgumentError(`quorum fraction must be in (0, 1], got ${f}`, "quorum");
    return Math.max(1, Math.ceil(f * selected - 1e-9));
  }
  if (!Number.isInteger(c) || (c as number) < 1) {
    throw new TrainingArgumentError(`quorum count must be an integer ≥ 1, got ${c}`, "quorum");
  }
  // A count above the number selected this round cannot be met; the whole selection is the most to wait for.
  return Math.min(c as number, selected);
}

/** Whether `received` uploads out of `selected` meet the quorum. */
export function checkQuorum(received: number, selected: number, quorum: Quorum): QuorumStatus {
  const needed = quorumNeeded(selected, quorum);
  return { needed, received, met: received >= needed };
}
