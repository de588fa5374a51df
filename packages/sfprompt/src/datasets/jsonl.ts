// User data as JSON Lines: one sample per line, {"x": [numbers], "label": ...} for features or
// images, {"text": "...", "label": ...} or {"ids": [ints], "label": ...} for text (the input and label
// field names configurable). Labels are strings or ints; errors name the file and line. Lines are
// taken one at a time into typed arrays, so a file larger than V8's longest string reads.

import { type Dataset, createDataset, sampleSize } from "./dataset.js";
import { DatasetArgumentError, DatasetFormatError, LabelError } from "./errors.js";
import { JsonlKindCheck } from "./jsonl-kind.js";
import { countFileLines, eachFileLine, eachTextLine, type JsonlLine as Line } from "./jsonl-lines.js";

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
  /** Turns the text into token ids; needed when lines carry text instead of "ids". */
  tokenize?: (text: string) => ArrayLike<number>;
  /**
   * The input field the user named (jsonl.inputField): it holds the text (a string) in place of
   * "text". A line whose input field (or "x"/"input" when unset) holds an array, and that has no
   * text or "ids", is refused as number features.
   */
  inputField?: string;
  /** Every sequence is truncated or padded to this length. */
  seqLen: number;
  padId?: number;
  /** Element type of the ids: int32 (default) or int64 (what BERT-style ONNX exports take). */
  dtype?: "int32" | "int64";
}

type RawLabel = string | number;

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

// Grows a typed array by doubling; `take` gives the filled part.
class Growing<A extends Float32Array | Int32Array> {
  #data: A;
  #used = 0;
  /**
   * `rows`: how many rows (calls of `next`, each of one size) the caller expects, when it knows
   * (a file's lines counted first): the first `next` allocates them all, and `take` then hands out the
   * array without a copy when they came.
   */
  constructor(
    private readonly make: (n: number) => A,
    private readonly rows?: number,
  ) {
    this.#data = make(rows === undefined ? 1024 : 0);
  }
  /** The next `n` elements, for the caller to fill. */
  next(n: number): A {
    if (this.#used + n > this.#data.length) {
      const want = this.#used === 0 && this.rows !== undefined ? this.rows * n : 2 * this.#data.length;
      const bigger = this.make(Math.max(want, this.#used + n));
      bigger.set(this.#data.subarray(0, this.#used));
      this.#data = bigger;
    }
    this.#used += n;
    return this.#data.subarray(this.#used - n, this.#used) as A;
  }
  take(): A {
    return this.#used === this.#data.length ? this.#data : (this.#data.slice(0, this.#used) as A);
  }
}

// Labels as the lines give them, resolved once every line is read.
class LabelColumn {
  readonly raw: RawLabel[] = [];
  readonly lineNumbers: number[] = [];
  constructor(
    private readonly source: string,
    private readonly options: JsonlLabelOptions,
  ) {}
  add(line: Line): void {
    this.raw.push(rawLabel(line, this.source, this.options.labelField ?? "label"));
    this.lineNumbers.push(line.number);
  }
  resolve(): { labels: Int32Array; classNames: string[] } {
    return resolveLabels(this.raw, this.lineNumbers, this.source, this.options.classNames);
  }
}

/** Takes lines of "x" feature arrays one at a time; `finish` gives the dataset. */
class FeatureLines {
  #shape: readonly number[] | undefined;
  #x: Growing<Float32Array>;
  #labels: LabelColumn;
  #kind: JsonlKindCheck;
  /** `rows`: the samples expected (a file's non-blank lines), to size the array once. */
  constructor(
    private readonly source: string,
    private readonly options: JsonlFeatureOptions,
    rows?: number,
  ) {
    this.#x = new Growing((n) => new Float32Array(n), rows);
    this.#labels = new LabelColumn(source, options);
    this.#kind = new JsonlKindCheck(source, "features", options.inputField);
  }
  add(line: Line): void {
    const where = `${this.source}:${line.number}`;
    const name = this.options.inputField ?? ("x" in line.record ? "x" : "input");
    this.#kind.check(line);
    const values = numberArray(line.record[name], name, where, false);
    const shape = (this.#shape ??= this.options.shape ?? [values.length]);
    const per = sampleSize(shape);
    if (values.length !== per) {
      throw new DatasetFormatError(
        where,
        `"${name}" has ${values.length} numbers, expected ${per} (shape [${shape.join(", ")}])`,
      );
    }
    this.#x.next(per).set(values);
    this.#labels.add(line);
  }
  finish(): Dataset<Float32Array> {
    if (this.#shape === undefined) throw new DatasetFormatError(this.source, "has no samples");
    const { labels, classNames } = this.#labels.resolve();
    return createDataset({ x: this.#x.take(), sampleShape: this.#shape, labels, classNames });
  }
}

/** Parses JSONL text whose lines carry "x" feature arrays. */
export function parseJsonlFeatures(
  text: string,
  source: string,
  options: JsonlFeatureOptions = {},
): Dataset<Float32Array> {
  const lines = new FeatureLines(source, options);
  eachTextLine(text, source, (l) => lines.add(l));
  return lines.finish();
}

/** A line's ids: its "ids", else its text (the named input field, else "text") tokenized. */
function lineIds(line: Line, where: string, options: JsonlTokenOptions): ArrayLike<number> {
  if (line.record.ids !== undefined) return numberArray(line.record.ids, "ids", where, true);
  const field = options.inputField ?? "text";
  const text = line.record[field];
  if (typeof text !== "string")
    throw new DatasetFormatError(where, `needs "${field}" (the text, a string) or "ids" (token ids)`);
  if (options.tokenize === undefined) {
    throw new DatasetArgumentError(
      "tokenize",
      `${where} has "${field}"; pass a tokenize function to turn it into ids`,
    );
  }
  return options.tokenize(text);
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
  const lines = new TokenLines(source, options);
  eachTextLine(text, source, (l) => lines.add(l));
  return lines.finish();
}

// int64 ids are written as two int32 words (low, then the sign's high word, in the host's order) into
// the buffer the BigInt64Array is made over: BigInt64Array.from(int32 ids) held a BigInt object per id
// besides both arrays (40 MB of int64 ids took 225 MiB more peak RSS, the int32 read 74 MiB)
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const [LOW, HIGH] = LITTLE_ENDIAN_HOST ? [0, 1] : [1, 0];

/** Takes lines of "text" or "ids" one at a time; `finish` gives the dataset. */
class TokenLines {
  #ids: Growing<Int32Array>;
  #words: 1 | 2;
  #labels: LabelColumn;
  #kind: JsonlKindCheck;
  /** `rows`: the samples expected (a file's non-blank lines), to size the array once. */
  constructor(
    private readonly source: string,
    private readonly options: JsonlTokenOptions,
    rows?: number,
  ) {
    this.#ids = new Growing((n) => new Int32Array(n), rows);
    if (!Number.isInteger(options.seqLen) || options.seqLen <= 0) {
      throw new DatasetArgumentError("seqLen", `must be a positive integer, got ${options.seqLen}`);
    }
    this.#labels = new LabelColumn(source, options);
    this.#kind = new JsonlKindCheck(source, "text", options.inputField);
    this.#words = options.dtype === "int64" ? 2 : 1;
  }
  add(line: Line): void {
    const s = this.options.seqLen;
    const where = `${this.source}:${line.number}`;
    this.#kind.check(line);
    const seq = lineIds(line, where, this.options);
    const row = this.#ids.next(s * this.#words);
    const pad = this.options.padId ?? 0;
    const n = Math.min(s, seq.length);
    if (this.#words === 1) {
      row.fill(pad);
      for (let j = 0; j < n; j++) row[j] = seq[j] as number;
    } else {
      for (let j = 0; j < s; j++) {
        const id = (j < n ? (seq[j] as number) : pad) | 0; // as an Int32Array element holds it
        row[2 * j + LOW] = id;
        row[2 * j + HIGH] = id < 0 ? -1 : 0;
      }
    }
    this.#labels.add(line);
  }
  finish(): Dataset<Int32Array | BigInt64Array> {
    if (this.#labels.raw.length === 0) throw new DatasetFormatError(this.source, "has no samples");
    const { labels, classNames } = this.#labels.resolve();
    const ids = this.#ids.take(); // a buffer of its own, from offset 0
    const x = this.#words === 2 ? new BigInt64Array(ids.buffer, ids.byteOffset, ids.length / 2) : ids;
    return createDataset<Int32Array | BigInt64Array>({
      x,
      sampleShape: [this.options.seqLen],
      labels,
      classNames,
    });
  }
}

/** Reads a JSONL file of {"x": [...], "label": ...} lines. */
export async function loadJsonlFeatures(
  path: string,
  options: JsonlFeatureOptions = {},
): Promise<Dataset<Float32Array>> {
  const lines = new FeatureLines(path, options, await countFileLines(path));
  await eachFileLine(path, (l) => lines.add(l));
  return lines.finish();
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
  const lines = new TokenLines(path, options, await countFileLines(path));
  await eachFileLine(path, (l) => lines.add(l));
  return lines.finish();
}
