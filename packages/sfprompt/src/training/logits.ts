// Shape checks and the numerically stable row softmax shared by the loss, metrics and EL2N scoring.
import { TrainingArgumentError, TensorShapeError } from "./errors.js";

/** A row-major [rows, cols] float32 matrix, e.g. logits [B, C]. */
export interface Matrix {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Checks `m` is [rows, cols] with matching data length; returns [rows, cols]. */
export function matrixDims(m: Matrix, what: string): [rows: number, cols: number] {
  if (m.shape.length !== 2) {
    throw new TensorShapeError(`${what} must be 2-D [batch, classes], got shape [${m.shape.join(", ")}]`);
  }
  const [rows, cols] = m.shape as [number, number];
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols <= 0) {
    throw new TensorShapeError(`${what} shape [${rows}, ${cols}] needs integer batch ≥ 0 and classes ≥ 1`);
  }
  if (m.data.length !== rows * cols) {
    throw new TensorShapeError(
      `${what} has ${m.data.length} values but shape [${rows}, ${cols}] needs ${rows * cols}`,
    );
  }
  return [rows, cols];
}

/** Checks labels: one integer in [0, classes) per row. */
export function checkLabels(labels: ArrayLike<number>, rows: number, classes: number, what = "labels"): void {
  if (labels.length !== rows) {
    throw new TensorShapeError(`${what} has ${labels.length} entries but the batch has ${rows} rows`);
  }
  for (let i = 0; i < rows; i++) {
    const y = labels[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new TrainingArgumentError(
        `${what}[${i}] is ${y}: labels must be integers in [0, ${classes}); check the class count`,
        `${what}[${i}]`,
      );
    }
  }
}

/**
 * Writes softmax(row `r` of `logits`) into `out` (length cols) in float64, via log-sum-exp so large
 * logits neither overflow nor underflow; returns log Σ exp(row). Throws on NaN/Inf logits.
 */
export function softmaxRowInto(logits: Float32Array, r: number, cols: number, out: Float64Array): number {
  const base = r * cols;
  let max = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = logits[base + c] as number;
    if (!Number.isFinite(v)) {
      throw new TrainingArgumentError(
        `logits row ${r} column ${c} is ${v}: training diverged; lower the learning rate or clip gradients`,
        `logits[${r}][${c}]`,
      );
    }
    if (v > max) max = v;
  }
  let sum = 0;
  for (let c = 0; c < cols; c++) {
    const e = Math.exp((logits[base + c] as number) - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < cols; c++) out[c] = (out[c] as number) / sum;
  return max + Math.log(sum);
}

/** Row-wise softmax of [B, C] logits as float32 probabilities. */
export function softmax(logits: Matrix): Float32Array {
  const [rows, cols] = matrixDims(logits, "logits");
  const out = new Float32Array(rows * cols);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    softmaxRowInto(logits.data, r, cols, row);
    out.set(row, r * cols);
  }
  return out;
}
