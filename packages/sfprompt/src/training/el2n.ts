// EL2N data pruning (Paul et al. 2021), as SFPrompt's phase 1 uses it: score every local sample by
// ‖softmax(f(x)) − onehot(y)‖₂ on the local-loss path, keep the hardest ⌈(1−γ)·N⌉, at least one batch.
import { TrainingArgumentError } from "./errors.js";
import { checkLabels, matrixDims, softmaxRowInto, type Matrix } from "./logits.js";

/** EL2N score of each row of [N, C] logits against its label. */
export function el2nScores(logits: Matrix, labels: ArrayLike<number>): Float64Array {
  const [rows, cols] = matrixDims(logits, "logits");
  checkLabels(labels, rows, cols);
  const out = new Float64Array(rows);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    softmaxRowInto(logits.data, r, cols, row);
    const y = labels[r] as number;
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const d = (row[c] as number) - (c === y ? 1 : 0);
      s += d * d;
    }
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** Pruning settings: γ is the fraction pruned, the batch size the minimum kept. */
export interface El2nPruneOptions {
  /** Fraction of samples pruned, in [0, 1]. */
  readonly gamma: number;
  /** Minimum number kept (one batch), capped at N. */
  readonly batchSize: number;
  /**
   * Each sample's label: when given, the kept set is balanced across classes (every class keeps about
   * the same fraction of its samples, the hardest of them), instead of the hardest overall.
   */
  readonly labels?: ArrayLike<number>;
}

/** The outcome of a pruning pass. */
export interface El2nSelection {
  /** Kept sample indices, by descending score (per-class quantile with labels), ties by ascending index. */
  readonly kept: Int32Array;
  /** Pruned sample indices, in the same order (descending score, ties by index). */
  readonly pruned: Int32Array;
  /** Mean score of the kept samples; null when none is kept (N = 0). */
  readonly meanKept: number | null;
  /** Mean score of the pruned samples; null when none is pruned. */
  readonly meanPruned: number | null;
  /** Lowest kept score (the cut, for the whole set); null when none is kept. */
  readonly threshold: number | null;
}

// (1−γ)·N computed in floating point can land a hair above an integer ((1−0.7)·10 = 3.0000000000000004),
// and a plain ceil would then keep one sample too many.
const CEIL_SLACK = 1e-9;

/** How many of N samples a pass keeps: max(⌈(1−γ)·N⌉, min(batchSize, N)). */
export function el2nKeepCount(n: number, opts: El2nPruneOptions): number {
  const { gamma, batchSize } = opts;
  if (!Number.isInteger(n) || n < 0)
    throw new TrainingArgumentError(`N must be an integer ≥ 0, got ${n}`, "n");
  if (!(gamma >= 0 && gamma <= 1)) {
    throw new TrainingArgumentError(`gamma (fraction pruned) must be in [0, 1], got ${gamma}`, "gamma");
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TrainingArgumentError(`batchSize must be an integer ≥ 1, got ${batchSize}`, "batchSize");
  }
  const byGamma = Math.max(0, Math.ceil((1 - gamma) * n - CEIL_SLACK));
  return Math.min(n, Math.max(byGamma, batchSize));
}

/** Indices 0..N-1 ordered by descending score, ties by ascending index; throws on NaN scores. */
export function rankByScore(scores: ArrayLike<number>): Int32Array {
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i] as number)) {
      throw new TrainingArgumentError(
        `score ${i} is NaN: the model's logits were not finite`,
        `scores[${i}]`,
      );
    }
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // TypedArray sort with a comparator is stable by spec, and the index tie-break makes it total anyway.
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return order;
}

function mean(scores: ArrayLike<number>, idx: Int32Array): number | null {
  if (idx.length === 0) return null;
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += scores[idx[i] as number] as number;
  return s / idx.length;
}

/**
 * Indices ordered so that any prefix keeps about the same fraction of every class, hardest first within
 * a class: each sample's key is its within-class quantile (1 − (rank + ½) / n_c), ties by index.
 * Without this, a model far from the task scores whole classes as "hard", and the kept set (and so the
 * tail trained on it) leans to those classes: ADR 0022.
 */
export function rankByScorePerClass(scores: ArrayLike<number>, labels: ArrayLike<number>): Int32Array {
  if (labels.length !== scores.length) {
    throw new TrainingArgumentError(
      `labels has ${labels.length} entries for ${scores.length} scores; give one label per sample`,
      "labels",
    );
  }
  const byScore = rankByScore(scores);
  const members = new Map<number, number[]>();
  for (const i of byScore) {
    const y = labels[i] as number;
    let list = members.get(y);
    if (list === undefined) members.set(y, (list = []));
    list.push(i);
  }
  const key = new Float64Array(scores.length);
  for (const list of members.values()) {
    list.forEach((i, rank) => (key[i] = 1 - (rank + 0.5) / list.length));
  }
  return rankByScore(key);
}

/**
 * Keeps ⌈(1−γ)·N⌉ samples (at least one batch, at most N): the top by descending EL2N score, or with
 * `labels`, the hardest ⌈(1−γ)⌉ fraction of each class.
 */
export function selectByEl2n(scores: ArrayLike<number>, opts: El2nPruneOptions): El2nSelection {
  const keep = el2nKeepCount(scores.length, opts);
  const order = opts.labels === undefined ? rankByScore(scores) : rankByScorePerClass(scores, opts.labels);
  const kept = order.slice(0, keep);
  const pruned = order.slice(keep);
  let threshold: number | null = null;
  for (const i of kept) threshold = Math.min(threshold ?? Infinity, scores[i] as number);
  return { kept, pruned, meanKept: mean(scores, kept), meanPruned: mean(scores, pruned), threshold };
}
