// The built-in text dataset `debian-sections`: Debian package short descriptions labelled by their
// archive Section (10 topical classes), snapshotted by scripts/data/debian-sections.mjs into
// packages/sfprompt/data/ with a fixed, source-grouped train/test split (docs/adr/0028).

import { fileURLToPath } from "node:url";
import { type Dataset } from "./dataset.js";
import { DatasetFormatError, DatasetNotFoundError } from "./errors.js";
import { readMaybeGzip, type DataSizeCap } from "./idx.js";
import { parseJsonlTokens } from "./jsonl.js";
import { dataFileIsThere, unreadableFileError } from "./unreadable-file.js";

/** The class names, in label order (label id = position); the data file's sidecar lists the same. */
export const DEBIAN_SECTIONS_CLASSES: readonly string[] = [
  "admin",
  "fonts",
  "games",
  "graphics",
  "math",
  "net",
  "science",
  "sound",
  "text",
  "web",
];

/**
 * The most bytes the debian-sections JSONL may hold (decompressed): about 100 times the shipped file
 * (0.69 MB, 7,935 descriptions), room for a regenerated larger set, not for a gzip bomb.
 */
export const DEBIAN_SECTIONS_MAX_BYTES = 64 * 2 ** 20;

const DEBIAN_SECTIONS_CAP: DataSizeCap = {
  bytes: DEBIAN_SECTIONS_MAX_BYTES,
  declared: "that debian-sections is read up to (64 MiB; the shipped file holds 0.69 MB)",
  check:
    "The file is corrupt or not the debian-sections data: check that SFPROMPT_DEBIAN_SECTIONS (or the path given) names the JSONL file that ships in @sfprompt/core's data/ folder, or regenerate it with node scripts/data/debian-sections.mjs",
};

export type DebianSectionsSplit = "train" | "test";

export interface DebianSectionsOptions {
  split: DebianSectionsSplit;
  /** Text → ids, e.g. (s) => tokenizer.encode(s, seqLen); longer outputs are cut to seqLen. */
  tokenize: (text: string) => ArrayLike<number>;
  /** Every row is padded (with padId) or cut to this many ids. */
  seqLen: number;
  padId: number;
  /** Element type of the ids: int32 (default) or int64 (what BERT-style ONNX exports take). */
  dtype?: "int32" | "int64";
  /** The .jsonl.gz to read; default $SFPROMPT_DEBIAN_SECTIONS or the file that ships in the package. */
  path?: string;
}

/** The data file that ships with the package (resolved from this module: src/ and dist/ alike). */
export function debianSectionsPath(): string {
  const env = process.env.SFPROMPT_DEBIAN_SECTIONS;
  if (env) return env;
  return fileURLToPath(new URL("../../data/debian-sections.jsonl.gz", import.meta.url));
}

// Lines of the other split become blank, so that errors still name the file's own line numbers.
function keepSplit(text: string, wanted: DebianSectionsSplit, source: string): string {
  return text
    .split("\n")
    .map((line, i) => {
      if (line.trim() === "") return "";
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        return line; // parseJsonlTokens reports it, with its line number
      }
      if (typeof record !== "object" || record === null) return line; // likewise
      const split = (record as { split?: unknown }).split;
      if (split !== "train" && split !== "test") {
        throw new DatasetFormatError(`${source}:${i + 1}`, `needs "split": "train" or "test"`);
      }
      return split === wanted ? line : "";
    })
    .join("\n");
}

/** Loads one split as [N, seqLen] token ids with labels indexing DEBIAN_SECTIONS_CLASSES. */
export async function loadDebianSections(
  options: DebianSectionsOptions & { dtype: "int64" },
): Promise<Dataset<BigInt64Array>>;
export async function loadDebianSections(
  options: DebianSectionsOptions & { dtype?: "int32" },
): Promise<Dataset<Int32Array>>;
export async function loadDebianSections(
  options: DebianSectionsOptions,
): Promise<Dataset<Int32Array | BigInt64Array>>;
export async function loadDebianSections(
  options: DebianSectionsOptions,
): Promise<Dataset<Int32Array | BigInt64Array>> {
  const path = options.path ?? debianSectionsPath();
  if (!dataFileIsThere(path)) {
    throw new DatasetNotFoundError(
      path,
      "debian-sections data file not found; it ships in @sfprompt/core's data/ folder " +
        "(regenerate with node scripts/data/debian-sections.mjs) or set SFPROMPT_DEBIAN_SECTIONS",
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readMaybeGzip(path, DEBIAN_SECTIONS_CAP);
  } catch (cause) {
    throw unreadableFileError(path, cause) ?? cause; // a 0600 file of another owner: user and chmod
  }
  const text = new TextDecoder().decode(bytes);
  return parseJsonlTokens(keepSplit(text, options.split, path), path, {
    tokenize: options.tokenize,
    seqLen: options.seqLen,
    padId: options.padId,
    dtype: options.dtype ?? "int32",
    classNames: DEBIAN_SECTIONS_CLASSES,
  });
}
