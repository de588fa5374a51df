// Classification metrics from logits or predictions: top-1, accuracy, confusion matrix.
import { TrainingArgumentError, TensorShapeError } from "./errors.js";
import { checkLabels, matrixDims, type Matrix } from "./logits.js";

/** Arg-max of each row of [B, C] logits; ties go to the lowest class index. */
export function top1(logits: Matrix): Int32Array {
  const [rows, cols] = matrixDims(logits, "logits");
  const out = new Int32Array(rows);
  const d = logits.data;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = 0;
    let bestV = d[base] as number;
    for (let c = 1; c < cols; c++) {
      const v = d[base + c] as number;
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

function checkPairs(predictions: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (predictions.length !== labels.length) {
    throw new TensorShapeError(
      `predictions has ${predictions.length} entries but labels has ${labels.length}`,
    );
  }
}

/** Fraction of predictions equal to labels; throws on an empty batch (no accuracy to report). */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkPairs(predictions, labels);
  if (labels.length === 0) {
    throw new TrainingArgumentError(
      "accuracy of zero samples is undefined: evaluate on a non-empty set",
      "labels",
    );
  }
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hits++;
  return hits / labels.length;
}

/** Confusion counts: row = true label, column = predicted label (scikit-learn's convention). */
export interface ConfusionMatrix {
  readonly classes: number;
  /** [classes, classes] row-major counts. */
  readonly counts: Int32Array;
}

/** Counts (label, prediction) pairs into a classes × classes matrix. */
export function confusionMatrix(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): ConfusionMatrix {
  checkPairs(predictions, labels);
  if (!Number.isInteger(classes) || classes <= 0) {
    throw new TrainingArgumentError(`classes must be a positive integer, got ${classes}`, "classes");
  }
  checkLabels(labels, labels.length, classes);
  checkLabels(predictions, predictions.length, classes, "predictions");
  const counts = new Int32Array(classes * classes);
  for (let i = 0; i < labels.length; i++) {
    const k = (labels[i] as number) * classes + (predictions[i] as number);
    counts[k] = (counts[k] as number) + 1;
  }
  return { classes, counts };
}

/** Accuracy read off a confusion matrix (trace / total); throws when it is empty. */
export function confusionAccuracy(m: ConfusionMatrix): number {
  let total = 0;
  let diag = 0;
  for (let r = 0; r < m.classes; r++) {
    for (let c = 0; c < m.classes; c++) {
      const v = m.counts[r * m.classes + c] as number;
      total += v;
      if (r === c) diag += v;
    }
  }
  if (total === 0) throw new TrainingArgumentError("the confusion matrix counts no samples", "counts");
  return diag / total;
}
