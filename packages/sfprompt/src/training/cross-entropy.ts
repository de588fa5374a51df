// Softmax cross-entropy over [B, C] logits with integer labels: the loss the client computes at
// the tail, and the gradient it feeds back into the tail's (and, through the body, the prompts') VJP.
import { checkLabels, matrixDims, softmaxRowInto, type Matrix } from "./logits.js";

/** Loss, gradient and probabilities of one batch. */
export interface CrossEntropyResult {
  /** Mean over the batch of −log softmax(logits)[y]; 0 for an empty batch. */
  readonly loss: number;
  /** Per-sample −log p_y, length B. */
  readonly perSample: Float64Array;
  /** softmax(logits), [B, C]. */
  readonly probs: Float32Array;
  /** ∂ loss / ∂ logits = (softmax − onehot(y)) / B, [B, C]; feed it as the tail's output gradient. */
  readonly grad: Float32Array;
}

/** Mean softmax cross-entropy of `logits` [B, C] against `labels` (integers in [0, C)). */
export function softmaxCrossEntropy(logits: Matrix, labels: ArrayLike<number>): CrossEntropyResult {
  const [rows, cols] = matrixDims(logits, "logits");
  checkLabels(labels, rows, cols);
  const probs = new Float32Array(rows * cols);
  const grad = new Float32Array(rows * cols);
  const perSample = new Float64Array(rows);
  const row = new Float64Array(cols);
  const invB = rows === 0 ? 0 : 1 / rows;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const y = labels[r] as number;
    const logZ = softmaxRowInto(logits.data, r, cols, row);
    const l = logZ - (logits.data[r * cols + y] as number);
    perSample[r] = l;
    total += l;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const p = row[c] as number;
      probs[base + c] = p;
      grad[base + c] = (c === y ? p - 1 : p) * invB;
    }
  }
  return { loss: total * invB, perSample, probs, grad };
}
