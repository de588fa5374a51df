// Loads an IDX image file plus its IDX label file (the MNIST layout) as a float image dataset.

import { type Dataset } from "./dataset.js";
import { DatasetFormatError, LabelError } from "./errors.js";
import { type IdxArray, readIdxFile } from "./idx.js";
import { type ImageLoadOptions, imagesToDataset, selectIndices } from "./select.js";

export interface IdxPairOptions extends ImageLoadOptions {
  images: string;
  labels: string;
  /** Class names; the labels must lie in 0..classNames.length-1. */
  classNames: readonly string[];
}

function checkImages(images: IdxArray, path: string): [number, number, number] {
  if (images.dtype !== "uint8" || images.dims.length !== 3) {
    throw new DatasetFormatError(
      path,
      `expected uint8 images [N, H, W], got ${images.dtype} [${images.dims.join(", ")}]; is this a labels file?`,
    );
  }
  const [, h, w] = images.dims as [number, number, number];
  if (h === 0 || w === 0) {
    throw new DatasetFormatError(
      path,
      `IDX images are [${images.dims.join(", ")}]: an image needs rows and columns; the file is corrupt`,
    );
  }
  return images.dims as [number, number, number];
}

function checkLabelFile(labels: IdxArray, path: string, count: number, imagesPath: string): void {
  if (labels.dtype !== "uint8" || labels.dims.length !== 1) {
    throw new DatasetFormatError(
      path,
      `expected uint8 labels [N], got ${labels.dtype} [${labels.dims.join(", ")}]; is this an images file?`,
    );
  }
  if (labels.dims[0] !== count) {
    throw new DatasetFormatError(path, `has ${labels.dims[0]} labels but ${imagesPath} has ${count} images`);
  }
}

/** Reads an IDX images/labels pair into [N, 1, H, W] floats in [0, 1]. */
export async function loadIdxImages(options: IdxPairOptions): Promise<Dataset<Float32Array>> {
  const [images, labels] = await Promise.all([readIdxFile(options.images), readIdxFile(options.labels)]);
  const [n, h, w] = checkImages(images, options.images);
  checkLabelFile(labels, options.labels, n, options.images);
  const classes = options.classNames.length;
  const bad = (labels.data as Uint8Array).findIndex((y) => y >= classes);
  if (bad >= 0) {
    throw new LabelError(
      options.labels,
      `label ${labels.data[bad]} of sample ${bad} is outside 0..${classes - 1}`,
    );
  }
  const selected = selectIndices(labels.data, classes, options);
  return imagesToDataset(
    {
      pixels: images.data as Uint8Array,
      labels: labels.data,
      shape: [1, h, w],
      classNames: options.classNames,
    },
    selected,
    options.resize,
  );
}
