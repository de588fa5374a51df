// The in-memory dataset: one flat typed array of samples, Int32 labels and class names, plus
// index views that select samples without copying the big buffer.

import { DatasetArgumentError, LabelError } from "./errors.js";

/** Sample storage: float features/images, or token ids for text. */
export type FeatureArray = Float32Array | Int32Array | BigInt64Array;

/**
 * N samples of shape `sampleShape` ([C, H, W] for images, [D] for features, [S] for token ids).
 * `x` holds the physical rows, row-major; `rows` maps logical sample i to its physical row
 * (null: the identity), so that subsets and partitions share one buffer. `labels` has one entry
 * per logical sample. Treat every field as immutable: views alias `x`.
 */
export interface Dataset<X extends FeatureArray = FeatureArray> {
  readonly x: X;
  readonly sampleShape: readonly number[];
  readonly rows: Int32Array | null;
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
}

export type ImageDataset = Dataset<Float32Array>;
export type TokenDataset = Dataset<Int32Array | BigInt64Array>;

export interface DatasetInit<X extends FeatureArray> {
  x: X;
  sampleShape: readonly number[];
  labels: Int32Array;
  classNames: readonly string[];
}

/** Number of elements in one sample (the product of its shape). */
export function sampleSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Number of logical samples. */
export function datasetSize(ds: Dataset): number {
  return ds.labels.length;
}

/** Builds a dataset over its own buffer, checking that shapes, labels and classes agree. */
export function createDataset<X extends FeatureArray>(init: DatasetInit<X>): Dataset<X> {
  const { x, sampleShape, labels, classNames } = init;
  if (sampleShape.length === 0 || sampleShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new DatasetArgumentError(
      "sampleShape",
      `must be positive integers, got [${sampleShape.join(", ")}]`,
    );
  }
  const per = sampleSize(sampleShape);
  if (x.length !== labels.length * per) {
    throw new DatasetArgumentError(
      "x",
      `has ${x.length} elements but ${labels.length} labels × [${sampleShape.join(", ")}] need ${labels.length * per}`,
    );
  }
  checkLabels(labels, classNames, "labels");
  return { x, sampleShape: [...sampleShape], rows: null, labels, classNames: [...classNames] };
}

function checkLabels(labels: Int32Array, classNames: readonly string[], source: string): void {
  if (classNames.length === 0)
    throw new LabelError(source, "class list is empty; give at least one class name");
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (y < 0 || y >= classNames.length) {
      throw new LabelError(source, `label ${y} at sample ${i} is outside 0..${classNames.length - 1}`);
    }
  }
}

/** The physical row of logical sample i. */
export function physicalRow(ds: Dataset, i: number): number {
  return ds.rows === null ? i : (ds.rows[i] as number);
}

/** Sample i as a subarray of the shared buffer (no copy; do not write to it). */
export function sampleAt<X extends FeatureArray>(ds: Dataset<X>, i: number): X {
  checkIndex(ds, i, "index");
  const per = sampleSize(ds.sampleShape);
  const row = physicalRow(ds, i);
  return ds.x.subarray(row * per, (row + 1) * per) as X;
}

function checkIndex(ds: Dataset, i: number, field: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.labels.length) {
    throw new DatasetArgumentError(field, `sample index ${i} is outside 0..${ds.labels.length - 1}`);
  }
}

/** The samples at `indices` (logical indices of `ds`), as a view over the same buffer. */
export function subset<X extends FeatureArray>(ds: Dataset<X>, indices: ArrayLike<number>): Dataset<X> {
  const rows = new Int32Array(indices.length);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    checkIndex(ds, i, `indices[${k}]`);
    rows[k] = physicalRow(ds, i);
    labels[k] = ds.labels[i] as number;
  }
  return { x: ds.x, sampleShape: ds.sampleShape, rows, labels, classNames: ds.classNames };
}

/** Allocates an empty typed array of the same kind as `like`. */
export function allocLike<X extends FeatureArray>(like: X, length: number): X {
  if (like instanceof BigInt64Array) return new BigInt64Array(length) as X;
  if (like instanceof Int32Array) return new Int32Array(length) as X;
  return new Float32Array(length) as X;
}

/** Copies the samples at `indices` into a new contiguous buffer. */
export function gatherRows<X extends FeatureArray>(ds: Dataset<X>, indices: ArrayLike<number>): X {
  const per = sampleSize(ds.sampleShape);
  const out = allocLike(ds.x, indices.length * per);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] as number;
    checkIndex(ds, i, `indices[${k}]`);
    const row = physicalRow(ds, i);
    // set() with a subarray is a typed memcpy; the cast is safe because out and x share a kind.
    (out as Float32Array).set((ds.x as Float32Array).subarray(row * per, (row + 1) * per), k * per);
  }
  return out;
}

/** A copy of the dataset (or view) that owns a contiguous buffer of exactly its samples. */
export function materialize<X extends FeatureArray>(ds: Dataset<X>): Dataset<X> {
  const all = Int32Array.from({ length: ds.labels.length }, (_, i) => i);
  return {
    x: gatherRows(ds, all),
    sampleShape: ds.sampleShape,
    rows: null,
    labels: ds.labels.slice(),
    classNames: ds.classNames,
  };
}

/** Samples per class, indexed by label. */
export function classCounts(ds: Pick<Dataset, "labels" | "classNames">): Int32Array {
  const counts = new Int32Array(ds.classNames.length);
  for (const y of ds.labels) counts[y] = (counts[y] as number) + 1;
  return counts;
}

/** Logical indices of each class, in dataset order. */
export function indicesByClass(labels: Int32Array, classes: number): Int32Array[] {
  const counts = new Int32Array(classes);
  for (const y of labels) counts[y] = (counts[y] as number) + 1;
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(classes);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    (out[y] as Int32Array)[fill[y] as number] = i;
    fill[y] = (fill[y] as number) + 1;
  }
  return out;
}
