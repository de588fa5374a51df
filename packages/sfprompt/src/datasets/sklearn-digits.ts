// scikit-learn's 8×8 digits (1,797 samples, pixel values 0..16) from its `digits.csv.gz`: a
// tiny real image task for unit tests. Debian's python3-sklearn ships the file;
// scripts/fetch-sklearn-digits.sh extracts it into ~/.cache/sfprompt/sklearn/ without installing.

import { homedir } from "node:os";
import { join } from "node:path";
import { type Dataset } from "./dataset.js";
import { DatasetFormatError, DatasetNotFoundError } from "./errors.js";
import { readMaybeGzip, type DataSizeCap } from "./idx.js";
import { type ImageLoadOptions, floatImagesToDataset, selectIndices } from "./select.js";
import { MNIST_CLASSES } from "./mnist.js";
import { dataFileIsThere, unreadableFileError } from "./unreadable-file.js";

const SIDE = 8;
const PIXELS = SIDE * SIDE;

/**
 * The most bytes digits.csv may hold (decompressed): about 60 times scikit-learn's file (0.26 MB,
 * 1,797 rows of 65 numbers); not room for a gzip bomb.
 */
export const SKLEARN_DIGITS_MAX_BYTES = 16 * 2 ** 20;

const SKLEARN_DIGITS_CAP: DataSizeCap = {
  bytes: SKLEARN_DIGITS_MAX_BYTES,
  declared: "that the scikit-learn digits are read up to (16 MiB; digits.csv holds 0.26 MB)",
  check:
    "The file is corrupt or not scikit-learn's digits: check that SFPROMPT_SKLEARN_DIGITS (or the path given) names sklearn/datasets/data/digits.csv.gz, which scripts/fetch-sklearn-digits.sh fetches",
};

/** Places searched for digits.csv.gz when no path is given, in order. */
export function sklearnDigitsCandidates(): string[] {
  return [
    ...(process.env.SFPROMPT_SKLEARN_DIGITS ? [process.env.SFPROMPT_SKLEARN_DIGITS] : []),
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz",
    join(homedir(), ".cache", "sfprompt", "sklearn", "digits.csv.gz"),
  ];
}

/**
 * The first existing digits.csv.gz, or undefined; a DatasetUnreadableError for a candidate behind a
 * folder this user may not search, rather than passing over it to the next (or to "not found").
 */
export function findSklearnDigits(): string | undefined {
  return sklearnDigitsCandidates().find((p) => dataFileIsThere(p));
}

/** Parses the CSV: 64 pixel values (0..16) then the label, one sample per line. */
export function parseSklearnDigits(text: string, source: string): { x: Float32Array; labels: Int32Array } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const x = new Float32Array(lines.length * PIXELS);
  const labels = new Int32Array(lines.length);
  lines.forEach((line, k) => {
    const cells = line.split(",").map(Number);
    const label = cells[PIXELS] ?? NaN;
    if (
      cells.length !== PIXELS + 1 ||
      cells.some((v) => !Number.isFinite(v)) ||
      !Number.isInteger(label) ||
      label < 0 ||
      label > 9
    ) {
      throw new DatasetFormatError(
        `${source}:${k + 1}`,
        `expected ${PIXELS} numbers and a label 0..9, got ${cells.length} cells`,
      );
    }
    for (let j = 0; j < PIXELS; j++) x[k * PIXELS + j] = (cells[j] as number) / 16;
    labels[k] = label;
  });
  return { x, labels };
}

// A file of mode 0600 and another owner: the user and the chmod, not a bare EACCES.
async function readDigits(path: string): Promise<Uint8Array> {
  try {
    return await readMaybeGzip(path, SKLEARN_DIGITS_CAP);
  } catch (cause) {
    throw unreadableFileError(path, cause) ?? cause;
  }
}

/** Loads the digits as [N, 1, 8, 8] floats in [0, 1] (or resized). */
export async function loadSklearnDigits(
  options: ImageLoadOptions & { path?: string } = {},
): Promise<Dataset<Float32Array>> {
  const path = options.path ?? findSklearnDigits();
  if (path === undefined) {
    throw new DatasetNotFoundError(
      sklearnDigitsCandidates().join(" | "),
      "scikit-learn digits.csv.gz not found; run scripts/fetch-sklearn-digits.sh or set SFPROMPT_SKLEARN_DIGITS",
    );
  }
  const { x, labels } = parseSklearnDigits(new TextDecoder().decode(await readDigits(path)), path);
  const selected = selectIndices(labels, MNIST_CLASSES.length, options);
  const xs = new Float32Array(selected.length * PIXELS);
  const ys = new Int32Array(selected.length);
  selected.forEach((i, k) => {
    xs.set(x.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    ys[k] = labels[i] as number;
  });
  return floatImagesToDataset(xs, ys, [1, SIDE, SIDE], MNIST_CLASSES, options.resize);
}
