// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from Debian's `dataset-fashion-mnist` package:
// 60k train / 10k test 28×28 grayscale images in 10 classes, as IDX .gz files.

import { accessSync, constants, existsSync } from "node:fs";
import { join } from "node:path";
import { permissionError } from "../runtime/unreadable-path.js";
import { type Dataset } from "./dataset.js";
import { DatasetFormatError, DatasetNotFoundError, DatasetUnreadableError } from "./errors.js";
import { checkIdxFileLength, type IdxFileHeader } from "./idx-length.js";
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

/** The folder Fashion-MNIST is read from: the dir option, else SFPROMPT_FASHION_MNIST_DIR's, else Debian's. */
function fashionMnistRoot(dir: string | undefined): string {
  return dir ?? process.env.SFPROMPT_FASHION_MNIST_DIR ?? FASHION_MNIST_DEBIAN_DIR;
}

/** Paths of the IDX image and label files of one split. */
export function fashionMnistFiles(
  split: FashionMnistSplit,
  dir?: string,
): { images: string; labels: string } {
  const root = fashionMnistRoot(dir);
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
  const root = fashionMnistRoot(dir);
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
 * Why loadFashionMnist would not read one split, found from the files' headers and sizes without
 * reading their images: not there (what to install or set), in a folder or files this user may not
 * read (the chmod), or damaged (cut short, not IDX, images and labels of different counts: what to
 * reinstall). The loader's own check, for the checks before a run that pre-trains the demo model on
 * the set; undefined when the loader would get to the images. A label out of range, or a gzip whose
 * middle was changed (its length kept), is still met by the read.
 */
export function fashionMnistProblem(
  split: FashionMnistSplit,
  dir?: string,
): DatasetNotFoundError | DatasetUnreadableError | DatasetFormatError | undefined {
  const files = fashionMnistFiles(split, dir);
  const root = fashionMnistRoot(dir);
  // not existsSync: it answers false for a folder this user may not search (mode 0700, another
  // owner), which read as "not in <folder>" and sent the user looking for files that are there
  const denied = { path: root, kind: "folder" as const, what: "the folder and its IDX files" };
  try {
    if (!dataFileIsThere(files.images, denied)) return notFound(split, files.images, dir);
    checkSplitFiles(split, files, dir);
    return undefined;
  } catch (error) {
    if (error instanceof DatasetUnreadableError || error instanceof DatasetFormatError) return error;
    const unreadable = unreadableError(error, dir, files.images);
    if (unreadable !== undefined) return unreadable;
    throw error;
  }
}

/**
 * Both files of a split against their headers (checkIdxFileLength) and each other: uint8 images
 * [N, H, W] and uint8 labels [N]. A DatasetFormatError naming the file, what is wrong with it and
 * what to reinstall or put there.
 */
function checkSplitFiles(
  split: FashionMnistSplit,
  files: { images: string; labels: string },
  dir: string | undefined,
): void {
  const damaged = (path: string, detail: string, cause?: unknown): DatasetFormatError =>
    new DatasetFormatError(path, `${detail}${detail.endsWith("?") ? "" : ";"} ${damagedAdvice(split, dir)}`, {
      cause,
    });
  const header = (path: string): IdxFileHeader => {
    try {
      return checkIdxFileLength(path);
    } catch (cause) {
      if (cause instanceof DatasetFormatError) throw damaged(path, cause.detail, cause);
      if ((cause as NodeJS.ErrnoException).code === "ENOENT")
        throw damaged(path, `is not there, though ${files.images} is`, cause);
      throw cause;
    }
  };
  const images = header(files.images);
  const [n = 0, h = 0, w = 0] = images.dims;
  if (images.dtype !== "uint8" || images.dims.length !== 3 || h === 0 || w === 0)
    throw damaged(
      files.images,
      `its IDX header declares ${images.dtype} [${images.dims.join(", ")}], not uint8 images [N, H, W]`,
    );
  const labels = header(files.labels);
  if (labels.dtype !== "uint8" || labels.dims.length !== 1)
    throw damaged(
      files.labels,
      `its IDX header declares ${labels.dtype} [${labels.dims.join(", ")}], not uint8 labels [N]`,
    );
  if (labels.dims[0] !== n)
    throw damaged(files.labels, `has ${labels.dims[0]} labels but ${files.images} has ${n} images`);
}

/** What to do about a damaged split, by what chose its folder (option, variable, Debian). */
function damagedAdvice(split: FashionMnistSplit, dir: string | undefined): string {
  const env = process.env.SFPROMPT_FASHION_MNIST_DIR;
  const root = fashionMnistRoot(dir);
  const damaged = `Fashion-MNIST's ${split} split in ${root}`;
  if (dir !== undefined)
    return `${damaged} (the dir option) is damaged: give a folder with intact copies of ${IDX_FILES}`;
  if (env !== undefined)
    return (
      `${damaged} (SFPROMPT_FASHION_MNIST_DIR) is damaged: copy ${IDX_FILES} there again ` +
      "(Debian's dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist), or unset " +
      "SFPROMPT_FASHION_MNIST_DIR to read that package's files"
    );
  return (
    `${damaged} (Debian's dataset-fashion-mnist) is damaged: reinstall that package ` +
    "(sudo apt-get install --reinstall dataset-fashion-mnist), or set SFPROMPT_FASHION_MNIST_DIR " +
    `to a folder with intact copies of ${IDX_FILES}`
  );
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
    throw unreadableError(cause, options.dir, files.images) ?? cause;
  }
}

/**
 * A file of mode 0600 and another owner in a folder this user may search, as a DatasetUnreadableError
 * naming every other IDX file of the folder this user cannot read, so that one chmod fixes them all;
 * undefined for another error.
 */
function unreadableError(
  cause: unknown,
  dir: string | undefined,
  fallback: string,
): DatasetUnreadableError | undefined {
  const denied = permissionError(cause);
  if (denied === undefined) return undefined;
  const [first = denied.path ?? fallback, ...also] = unreadableIdxFiles(dir);
  return unreadableFileError({ path: first, kind: "file", also }, cause);
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
