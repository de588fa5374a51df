// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from Debian's `dataset-fashion-mnist` package:
// 60k train / 10k test 28×28 grayscale images in 10 classes, as IDX .gz files.

import { accessSync, constants, existsSync } from "node:fs";
import { join } from "node:path";
import { permissionError } from "../runtime/unreadable-path.js";
import { type Dataset } from "./dataset.js";
import { DatasetNotFoundError, DatasetUnreadableError } from "./errors.js";
import { loadIdxImages } from "./idx-images.js";
import { type ImageLoadOptions } from "./select.js";
import { dataFileIsThere, unreadableFileError } from "./unreadable-file.js";

/** Where Debian's `dataset-fashion-mnist` installs the files. */
export const FASHION_MNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

export type FashionMnistSplit = "train" | "test";

export interface FashionMnistOptions extends ImageLoadOptions {
  split?: FashionMnistSplit;
  /** Folder with the four IDX files; default $SFPROMPT_FASHION_MNIST_DIR or the Debian path. */
  dir?: string;
}

/** Paths of the IDX image and label files of one split. */
export function fashionMnistFiles(
  split: FashionMnistSplit,
  dir?: string,
): { images: string; labels: string } {
  const root = dir ?? process.env.SFPROMPT_FASHION_MNIST_DIR ?? FASHION_MNIST_DEBIAN_DIR;
  const prefix = split === "train" ? "train" : "t10k";
  const files = {
    images: join(root, `${prefix}-images-idx3-ubyte.gz`),
    labels: join(root, `${prefix}-labels-idx1-ubyte.gz`),
  };
  if (!existsSync(files.images) && existsSync(files.images.slice(0, -3))) {
    return { images: files.images.slice(0, -3), labels: files.labels.slice(0, -3) };
  }
  return files;
}

const IDX_FILES =
  "its IDX files (train-images-idx3-ubyte and train-labels-idx1-ubyte, t10k-… for the test split, each .gz or not)";

/** What is missing where, and how to give it, by what chose the folder (option, variable, Debian). */
function notFound(split: FashionMnistSplit, images: string, dir: string | undefined): DatasetNotFoundError {
  const env = process.env.SFPROMPT_FASHION_MNIST_DIR;
  const root = dir ?? env ?? FASHION_MNIST_DEBIAN_DIR;
  const missing = `Fashion-MNIST's ${split} split is not in ${root}`;
  const how =
    dir !== undefined
      ? `(the dir option): give a folder with ${IDX_FILES}, or leave dir unset to read ` +
        "SFPROMPT_FASHION_MNIST_DIR's folder or Debian's dataset-fashion-mnist"
      : env !== undefined
        ? `(SFPROMPT_FASHION_MNIST_DIR): set SFPROMPT_FASHION_MNIST_DIR to a folder with ${IDX_FILES}, ` +
          "or unset it to read Debian's dataset-fashion-mnist (scripts/setup.sh installs it)"
        : "(Debian's dataset-fashion-mnist): install that package (scripts/setup.sh does), " +
          `or set SFPROMPT_FASHION_MNIST_DIR to a folder with ${IDX_FILES}`;
  return new DatasetNotFoundError(images, `${missing} ${how}`);
}

/**
 * Why loadFashionMnist would not find one split (not there: what to install or set; a folder this
 * user may not search: the chmod), found without reading the files; undefined when they are there.
 * The loader's own check, for the checks before a run that pre-trains the demo model on the set.
 */
export function fashionMnistProblem(
  split: FashionMnistSplit,
  dir?: string,
): DatasetNotFoundError | DatasetUnreadableError | undefined {
  const files = fashionMnistFiles(split, dir);
  const root = dir ?? process.env.SFPROMPT_FASHION_MNIST_DIR ?? FASHION_MNIST_DEBIAN_DIR;
  // not existsSync: it answers false for a folder this user may not search (mode 0700, another
  // owner), which read as "not in <folder>" and sent the user looking for files that are there
  const denied = { path: root, kind: "folder" as const, what: "the folder and its IDX files" };
  try {
    return dataFileIsThere(files.images, denied) ? undefined : notFound(split, files.images, dir);
  } catch (error) {
    if (error instanceof DatasetUnreadableError) return error;
    throw error;
  }
}

/** Loads one split of Fashion-MNIST as [N, 1, 28, 28] floats in [0, 1] (or resized). */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<Dataset<Float32Array>> {
  const split = options.split ?? "train";
  const files = fashionMnistFiles(split, options.dir);
  const problem = fashionMnistProblem(split, options.dir);
  if (problem !== undefined) throw problem;
  try {
    return await loadIdxImages({ ...options, ...files, classNames: FASHION_MNIST_CLASSES });
  } catch (cause) {
    // a file of mode 0600 and another owner in a folder this user may search: named with every other
    // IDX file of the folder this user cannot read, so that one chmod fixes them all
    const denied = permissionError(cause);
    if (denied === undefined) throw cause;
    const [first = denied.path ?? files.images, ...also] = unreadableIdxFiles(options.dir);
    throw unreadableFileError({ path: first, kind: "file", also }, cause) ?? cause;
  }
}

/** The IDX files of both splits in the folder that are there and this user may not read, in a fixed order. */
function unreadableIdxFiles(dir: string | undefined): string[] {
  const all = (["train", "test"] as const).flatMap((split) => {
    const f = fashionMnistFiles(split, dir);
    return [f.images, f.labels];
  });
  return all.filter((path) => {
    try {
      accessSync(path, constants.R_OK);
      return false;
    } catch (cause) {
      return permissionError(cause) !== undefined;
    }
  });
}
