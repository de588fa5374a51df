// JSON Lines text data: {"text": "...", "label": ...} lines tokenized, or {"ids": [ints], "label": ...},
// each truncated or padded to the job's sequence length, as int32 or int64 ids (errors name the file
// and line).
import { type Dataset, createDataset } from "./dataset.js";
import { DatasetArgumentError, DatasetFormatError } from "./errors.js";
import { LabelColumn, type JsonlLabelOptions } from "./jsonl-labels.js";
import { JsonlKindCheck } from "./jsonl-kind.js";
import { countFileLines, eachFileLine, eachTextLine, type JsonlLine as Line } from "./jsonl-lines.js";
import { Growing, numberArray } from "./jsonl-rows.js";

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
