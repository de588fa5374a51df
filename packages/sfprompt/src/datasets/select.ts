// Small, deterministic subsets for tests and demos (`limit`, `perClass`), and turning the chosen
// rows of a uint8 image file into a float dataset, resized if asked.

import { type Dataset, createDataset } from "./dataset.js";
import { DatasetArgumentError } from "./errors.js";
import { type ResizeSpec, resizeImages } from "./resize.js";

export interface SubsetOptions {
  /** Keep at most this many samples (after perClass), in file order. */
  limit?: number;
  /** Keep the first this-many samples of each class, in file order. */
  perClass?: number;
}

export interface ImageLoadOptions extends SubsetOptions {
  /** Resize every image after loading (e.g. 28×28 → 16×16 area for a small ViT). */
  resize?: ResizeSpec;
}

function checkCount(field: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new DatasetArgumentError(field, `must be a non-negative integer, got ${v}`);
  }
}

/** Indices of the samples that `options` keeps, in file order. */
export function selectIndices(
  labels: ArrayLike<number>,
  classes: number,
  options: SubsetOptions,
): Int32Array {
  checkCount("limit", options.limit);
  checkCount("perClass", options.perClass);
  const limit = options.limit ?? Infinity;
  const perClass = options.perClass ?? Infinity;
  const taken = new Int32Array(classes);
  const out: number[] = [];
  for (let i = 0; i < labels.length && out.length < limit; i++) {
    const y = labels[i] as number;
    if ((taken[y] ?? 0) >= perClass) continue;
    taken[y] = (taken[y] ?? 0) + 1;
    out.push(i);
  }
  return Int32Array.from(out);
}

export interface ByteImages {
  /** All images of the file, uint8, [count, C, H, W] row-major. */
  pixels: Uint8Array;
  /** Labels of all images of the file. */
  labels: ArrayLike<number>;
  /** [C, H, W] */
  shape: readonly [number, number, number];
  classNames: readonly string[];
}

/** Converts the selected uint8 images to floats in [0, 1] and resizes them if asked. */
export function imagesToDataset(
  source: ByteImages,
  selected: Int32Array,
  resize?: ResizeSpec,
): Dataset<Float32Array> {
  const [c, h, w] = source.shape;
  const per = c * h * w;
  const x = new Float32Array(selected.length * per);
  const labels = new Int32Array(selected.length);
  for (let k = 0; k < selected.length; k++) {
    const i = selected[k] as number;
    labels[k] = source.labels[i] as number;
    const from = i * per;
    for (let j = 0; j < per; j++) x[k * per + j] = (source.pixels[from + j] as number) / 255;
  }
  return floatImagesToDataset(x, labels, source.shape, source.classNames, resize);
}

/** Wraps float images [N, C, H, W] as a dataset, resizing them first if asked. */
export function floatImagesToDataset(
  x: Float32Array,
  labels: Int32Array,
  shape: readonly [number, number, number],
  classNames: readonly string[],
  resize?: ResizeSpec,
): Dataset<Float32Array> {
  const [c, h, w] = shape;
  if (resize === undefined || (resize.height === h && resize.width === w)) {
    return createDataset({ x, sampleShape: shape, labels, classNames });
  }
  const resized = resizeImages(x, [labels.length, c, h, w], resize);
  return createDataset({ x: resized, sampleShape: [c, resize.height, resize.width], labels, classNames });
}
