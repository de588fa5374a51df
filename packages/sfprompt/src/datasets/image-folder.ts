// User image data laid out as root/<class>/[sub-folders/]<file>.png|.pgm|.ppm (torchvision's
// ImageFolder convention, links followed): classes are the sorted folder names unless a class list is given.

import type { Dirent } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { type Dataset, createDataset } from "./dataset.js";
import { DatasetFormatError, DatasetNotFoundError, LabelError } from "./errors.js";
import { type ColorMode, IMAGE_EXTENSIONS, decodeImage, toPlanar } from "./image-decode.js";
import { type ResizeSpec, resizeImages } from "./resize.js";
import { type SubsetOptions, selectIndices } from "./select.js";

export interface ImageFolderOptions extends SubsetOptions {
  /** Channels of the dataset: grayscale (1) or rgb (3). Default grayscale. */
  mode?: ColorMode;
  /** Resize every image to this size; without it all images must share one size. */
  resize?: ResizeSpec;
  /**
   * The job's class list. Give it on federated clients: a client may lack some classes, and the
   * label ids must mean the same on every client. Folders are matched by class name, else by
   * class index ("0".."C-1"); any other folder is an error.
   */
  classNames?: readonly string[];
  /**
   * Find and label the images without decoding them: each sample's features are one 0
   * (sampleShape [1]). For counting a folder's samples and classes (the split check of `sfprompt
   * run`), where decoding every image was slow and failed on sizes only the resize makes agree.
   */
  labelsOnly?: boolean;
}

type EntryKind = "dir" | "file" | "other";

// What an entry is, following a symbolic link (torchvision follows them too); a link to nothing is
// an error rather than a sample that silently goes missing.
async function entryKind(dir: string, entry: Dirent): Promise<EntryKind> {
  if (entry.isDirectory()) return "dir";
  if (entry.isFile()) return "file";
  if (!entry.isSymbolicLink()) return "other";
  const path = join(dir, entry.name);
  try {
    const target = await stat(path);
    return target.isDirectory() ? "dir" : target.isFile() ? "file" : "other";
  } catch (cause) {
    throw new DatasetNotFoundError(path, "is a symbolic link whose target cannot be read; fix or remove it", {
      cause,
    });
  }
}

// Entries of a folder, hidden ones (".git", macOS "._x.png" resource forks) left out.
async function listEntries(dir: string, what: string): Promise<Array<{ name: string; kind: EntryKind }>> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new DatasetNotFoundError(dir, `${what} is not readable; expected root/<class>/<image>`, { cause });
  }
  const visible = entries.filter((e) => !e.name.startsWith("."));
  return Promise.all(visible.map(async (e) => ({ name: e.name, kind: await entryKind(dir, e) })));
}

async function listDirs(root: string): Promise<string[]> {
  return (await listEntries(root, "image folder")).filter((e) => e.kind === "dir").map((e) => e.name);
}

// The images of one class folder and of the folders below it (as torchvision's ImageFolder walks
// them), as paths relative to the class folder, sorted by code unit: the same order on every machine.
// Other files are counted by extension in `skipped`: a folder of JPEGs is told what it holds.
async function listImages(classDir: string, skipped: Map<string, number>): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string, ancestors: readonly string[]): Promise<void> => {
    const dir = join(classDir, rel);
    const real = await realpath(dir);
    if (ancestors.includes(real)) {
      throw new DatasetFormatError(dir, "links back to a folder that contains it (a loop); remove the link");
    }
    for (const e of await listEntries(dir, "class folder")) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.kind === "dir") await walk(path, [...ancestors, real]);
      else if (e.kind === "file") {
        const ext = extname(e.name).toLowerCase();
        if (IMAGE_EXTENSIONS.includes(ext)) found.push(path);
        else skipped.set(ext, (skipped.get(ext) ?? 0) + 1);
      }
    }
  };
  await walk("", []);
  return found.sort();
}

// A folder is named by its class name, or by its class index ("0", "7") when no name matches.
function folderLabel(dir: string, classNames: readonly string[]): number {
  const byName = classNames.indexOf(dir);
  if (byName >= 0) return byName;
  const index = /^\d+$/.test(dir) ? Number(dir) : -1;
  return index < classNames.length ? index : -1;
}

// Formats other tools write that a user may take for readable images: named so that the refusal
// says what to convert rather than only what is missing.
const CONVERTIBLE = new Set([".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".avif"]);

// What a folder without readable images holds instead, most frequent extension first:
// "; the class folders hold only files it does not read (12 .jpg files, 1 .txt file): convert …".
function skippedHint(skipped: ReadonlyMap<string, number>): string {
  if (skipped.size === 0) return "";
  const counts = [...skipped].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const what = counts
    .map(
      ([ext, n]) =>
        `${n} ${ext === "" ? "file" : `${ext} file`}${n === 1 ? "" : "s"}${ext === "" ? " without an extension" : ""}`,
    )
    .join(", ");
  const images = counts.filter(([ext]) => CONVERTIBLE.has(ext)).map(([ext]) => ext);
  const todo =
    images.length > 0
      ? `convert the ${images.join(", ")} images to PNG, e.g. with ImageMagick in this folder: mogrify -format png */*${images[0]} (the originals may stay; they are ignored)`
      : "put the images in as PNG, PGM or PPM files";
  return `; the class folders hold only files it does not read (${what}): ${todo}`;
}

async function findFiles(
  root: string,
  options: ImageFolderOptions,
): Promise<{ files: string[]; labels: Int32Array; classNames: string[] }> {
  const dirs = (await listDirs(root)).sort();
  const classNames = options.classNames ? [...options.classNames] : dirs;
  const files: string[] = [];
  const labels: number[] = [];
  const skipped = new Map<string, number>();
  for (const dir of dirs) {
    const label = folderLabel(dir, classNames);
    if (label < 0) {
      throw new LabelError(
        join(root, dir),
        `folder is not one of the classes [${classNames.join(", ")}]; rename it or add it to classNames`,
      );
    }
    for (const name of await listImages(join(root, dir), skipped)) {
      files.push(join(root, dir, name));
      labels.push(label);
    }
  }
  if (files.length === 0) {
    throw new DatasetNotFoundError(
      root,
      `has no images (${IMAGE_EXTENSIONS.join(", ")}) in any class folder${skippedHint(skipped)}`,
    );
  }
  return { files, labels: Int32Array.from(labels), classNames };
}

async function loadOne(
  path: string,
  options: ImageFolderOptions,
): Promise<{ pixels: Float32Array; shape: [number, number, number] }> {
  const img = decodeImage(await readFile(path), path);
  const channels = options.mode === "rgb" ? 3 : 1;
  const pixels = toPlanar(img, options.mode ?? "grayscale");
  const r = options.resize;
  if (r === undefined || (r.height === img.height && r.width === img.width)) {
    return { pixels, shape: [channels, img.height, img.width] };
  }
  return {
    pixels: resizeImages(pixels, [1, channels, img.height, img.width], r),
    shape: [channels, r.height, r.width],
  };
}

/** Reads every image under root/<class>/ into [N, C, H, W] floats in [0, 1]. */
export async function loadImageFolder(
  root: string,
  options: ImageFolderOptions = {},
): Promise<Dataset<Float32Array>> {
  const found = await findFiles(root, options);
  const selected = selectIndices(found.labels, found.classNames.length, options);
  if (options.labelsOnly === true) {
    const labels = Int32Array.from(selected, (i) => found.labels[i] as number);
    return createDataset({
      x: new Float32Array(selected.length),
      sampleShape: [1],
      labels,
      classNames: found.classNames,
    });
  }
  let shape: [number, number, number] | undefined;
  let x = new Float32Array(0);
  const labels = new Int32Array(selected.length);
  for (let k = 0; k < selected.length; k++) {
    const i = selected[k] as number;
    const path = found.files[i] as string;
    const img = await loadOne(path, options);
    if (shape === undefined) {
      shape = img.shape;
      x = new Float32Array(selected.length * img.pixels.length);
    } else if (img.shape[1] !== shape[1] || img.shape[2] !== shape[2]) {
      throw new DatasetFormatError(
        path,
        `is ${img.shape[2]}×${img.shape[1]} but earlier images are ${shape[2]}×${shape[1]}; pass resize to load mixed sizes`,
      );
    }
    x.set(img.pixels, k * img.pixels.length);
    labels[k] = found.labels[i] as number;
  }
  return createDataset({ x, sampleShape: shape ?? [1, 1, 1], labels, classNames: found.classNames });
}
