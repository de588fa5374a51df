// User data as JSON Lines: one sample per line, {"x": [numbers], "label": ...} for features or
// images (field names configurable), {"text": "...", "label": ...} or {"ids": [ints], "label": ...} for text. Labels are
// strings or ints; errors name the file and line.

import { readFile } from "node:fs/promises";
import { type Dataset, createDataset, sampleSize } from "./dataset.js";
import { DatasetArgumentError, DatasetFormatError, DatasetNotFoundError, LabelError } from "./errors.js";

export interface JsonlLabelOptions {
  /** Field holding the label (default "label"). */
  labelField?: string;
  /**
   * The job's class list: string labels map to their position, int labels must index it. Without
   * it, string labels get their sorted unique values and int labels the names "0".."max".
   */
  classNames?: readonly string[];
}

export interface JsonlFeatureOptions extends JsonlLabelOptions {
  /** Field holding the numbers; default "x", or "input" on lines that have no "x". */
  inputField?: string;
  /** Shape of one sample, e.g. [1, 28, 28]; default [D] from the first line. */
  shape?: readonly number[];
}

export interface JsonlTokenOptions extends JsonlLabelOptions {
  /** Turns "text" into token ids; needed when lines carry text instead of "ids". */
  tokenize?: (text: string) => ArrayLike<number>;
  /** Every sequence is truncated or padded to this length. */
  seqLen: number;
  padId?: number;
  /** Element type of the ids: int32 (default) or int64 (what BERT-style ONNX exports take). */
  dtype?: "int32" | "int64";
}

type RawLabel = string | number;

interface Line {
  readonly number: number;
  readonly record: Record<string, unknown>;
}

function parseLines(text: string, source: string): Line[] {
  const out: Line[] = [];
  // a byte order mark (what Windows tools write first) is no part of the first line's JSON
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  body.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (cause) {
      throw new DatasetFormatError(`${source}:${i + 1}`, `is not valid JSON (${(cause as Error).message})`, {
        cause,
      });
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new DatasetFormatError(
        `${source}:${i + 1}`,
        `must be a JSON object like {"x": [...], "label": ...}`,
      );
    }
    out.push({ number: i + 1, record: record as Record<string, unknown> });
  });
  return out;
}

function rawLabel(line: Line, source: string, field: string): RawLabel {
  const label = line.record[field];
  if (typeof label === "string" || (typeof label === "number" && Number.isInteger(label) && label >= 0))
    return label;
  throw new LabelError(
    `${source}:${line.number}`,
    `"${field}" must be a string or a non-negative integer, got ${JSON.stringify(label)}`,
  );
}

/** Maps raw labels to ids, deriving the class list when none is given. */
export function resolveLabels(
  raw: readonly RawLabel[],
  lineNumbers: readonly number[],
  source: string,
  classNames?: readonly string[],
): { labels: Int32Array; classNames: string[] } {
  const strings = raw.filter((r) => typeof r === "string") as string[];
  const names =
    classNames !== undefined
      ? [...classNames]
      : strings.length > 0
        ? [...new Set(strings)].sort()
        : Array.from({ length: (raw as number[]).reduce((m, r) => Math.max(m, r), -1) + 1 }, (_, i) =>
            String(i),
          );
  const labels = new Int32Array(raw.length);
  raw.forEach((r, k) => {
    const where = `${source}:${lineNumbers[k]}`;
    if (classNames === undefined && strings.length > 0 && typeof r === "number") {
      throw new LabelError(
        where,
        `int label ${r} in a file with string labels; use one kind, or pass classNames`,
      );
    }
    const id = typeof r === "string" ? names.indexOf(r) : r;
    if (id < 0 || id >= names.length) {
      throw new LabelError(
        where,
        `label ${JSON.stringify(r)} is not one of the ${names.length} classes [${names.join(", ")}]`,
      );
    }
    labels[k] = id;
  });
  return { labels, classNames: names };
}

function numberArray(value: unknown, field: string, where: string, integers: boolean): number[] {
  const ok =
    Array.isArray(value) &&
    value.every((v) => typeof v === "number" && Number.isFinite(v) && (!integers || Number.isInteger(v)));
  if (!ok)
    throw new DatasetFormatError(
      where,
      `"${field}" must be an array of finite ${integers ? "integers" : "numbers"}`,
    );
  return value as number[];
}

/** Parses JSONL text whose lines carry "x" feature arrays. */
export function parseJsonlFeatures(
  text: string,
  source: string,
  options: JsonlFeatureOptions = {},
): Dataset<Float32Array> {
  const lines = parseLines(text, source);
  if (lines.length === 0) throw new DatasetFormatError(source, "has no samples");
  const field = (line: Line): string => options.inputField ?? ("x" in line.record ? "x" : "input");
  const first = lines[0] as Line;
  const firstValues = numberArray(
    first.record[field(first)],
    field(first),
    `${source}:${first.number}`,
    false,
  );
  const shape = options.shape ?? [firstValues.length];
  const per = sampleSize(shape);
  const x = new Float32Array(lines.length * per);
  lines.forEach((line, k) => {
    const where = `${source}:${line.number}`;
    const name = field(line);
    const values = numberArray(line.record[name], name, where, false);
    if (values.length !== per) {
      throw new DatasetFormatError(
        where,
        `"${name}" has ${values.length} numbers, expected ${per} (shape [${shape.join(", ")}])`,
      );
    }
    x.set(values, k * per);
  });
  const { labels, classNames } = resolveLabels(
    lines.map((l) => rawLabel(l, source, options.labelField ?? "label")),
    lines.map((l) => l.number),
    source,
    options.classNames,
  );
  return createDataset({ x, sampleShape: shape, labels, classNames });
}

function lineIds(line: Line, where: string, options: JsonlTokenOptions): ArrayLike<number> {
  if (line.record.ids !== undefined) return numberArray(line.record.ids, "ids", where, true);
  if (typeof line.record.text !== "string")
    throw new DatasetFormatError(where, `needs "text" (a string) or "ids" (token ids)`);
  if (options.tokenize === undefined) {
    throw new DatasetArgumentError(
      "tokenize",
      `${where} has "text"; pass a tokenize function to turn it into ids`,
    );
  }
  return options.tokenize(line.record.text);
}

/** Parses JSONL text whose lines carry "text" (tokenized by options.tokenize) or "ids". */
export function parseJsonlTokens(
  text: string,
  source: string,
  options: JsonlTokenOptions & { dtype: "int64" },
): Dataset<BigInt64Array>;
export function parseJsonlTokens(
  text: string,
  source: string,
  options: JsonlTokenOptions & { dtype?: "int32" },
): Dataset<Int32Array>;
export function parseJsonlTokens(
  text: string,
  source: string,
  options: JsonlTokenOptions,
): Dataset<Int32Array | BigInt64Array>;
export function parseJsonlTokens(
  text: string,
  source: string,
  options: JsonlTokenOptions,
): Dataset<Int32Array | BigInt64Array> {
  if (!Number.isInteger(options.seqLen) || options.seqLen <= 0) {
    throw new DatasetArgumentError("seqLen", `must be a positive integer, got ${options.seqLen}`);
  }
  const lines = parseLines(text, source);
  if (lines.length === 0) throw new DatasetFormatError(source, "has no samples");
  const s = options.seqLen;
  const ids = new Int32Array(lines.length * s).fill(options.padId ?? 0);
  lines.forEach((line, k) => {
    const seq = lineIds(line, `${source}:${line.number}`, options);
    for (let j = 0; j < Math.min(s, seq.length); j++) ids[k * s + j] = seq[j] as number;
  });
  const { labels, classNames } = resolveLabels(
    lines.map((l) => rawLabel(l, source, options.labelField ?? "label")),
    lines.map((l) => l.number),
    source,
    options.classNames,
  );
  const x = options.dtype === "int64" ? BigInt64Array.from(ids, (v) => BigInt(v)) : ids;
  return createDataset<Int32Array | BigInt64Array>({ x, sampleShape: [s], labels, classNames });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    throw new DatasetNotFoundError(path, "JSONL file is not readable; check the path", { cause });
  }
}

/** Reads a JSONL file of {"x": [...], "label": ...} lines. */
export async function loadJsonlFeatures(
  path: string,
  options: JsonlFeatureOptions = {},
): Promise<Dataset<Float32Array>> {
  return parseJsonlFeatures(await readText(path), path, options);
}

/** Reads a JSONL file of {"text": "...", "label": ...} or {"ids": [...], "label": ...} lines. */
export async function loadJsonlTokens(
  path: string,
  options: JsonlTokenOptions & { dtype: "int64" },
): Promise<Dataset<BigInt64Array>>;
export async function loadJsonlTokens(
  path: string,
  options: JsonlTokenOptions & { dtype?: "int32" },
): Promise<Dataset<Int32Array>>;
export async function loadJsonlTokens(
  path: string,
  options: JsonlTokenOptions,
): Promise<Dataset<Int32Array | BigInt64Array>>;
export async function loadJsonlTokens(
  path: string,
  options: JsonlTokenOptions,
): Promise<Dataset<Int32Array | BigInt64Array>> {
  return parseJsonlTokens(await readText(path), path, options);
}
