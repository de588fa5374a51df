// User data as JSON Lines: one sample per line, {"x": [numbers], "label": ...} for features or
// images, {"text": "...", "label": ...} or {"ids": [ints], "label": ...} for text (the input and label
// field names configurable). Labels are strings or ints; errors name the file and line. Lines are
// taken one at a time into typed arrays, so a file larger than V8's longest string reads.

import { type Dataset, createDataset, sampleSize } from "./dataset.js";
import { DatasetFormatError } from "./errors.js";
import { LabelColumn, type JsonlLabelOptions } from "./jsonl-labels.js";
import { JsonlKindCheck } from "./jsonl-kind.js";
import { countFileLines, eachFileLine, eachTextLine, type JsonlLine as Line } from "./jsonl-lines.js";
import { Growing, numberArray } from "./jsonl-rows.js";

// the labels (jsonl-labels.ts) and text lines (jsonl-tokens.ts) are read in their own modules
export { resolveLabels, type JsonlLabelOptions } from "./jsonl-labels.js";
export * from "./jsonl-tokens.js";

export interface JsonlFeatureOptions extends JsonlLabelOptions {
  /** Field holding the numbers; default "x", or "input" on lines that have no "x". */
  inputField?: string;
  /** Shape of one sample, e.g. [1, 28, 28]; default [D] from the first line. */
  shape?: readonly number[];
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

/** Reads a JSONL file of {"x": [...], "label": ...} lines. */
export async function loadJsonlFeatures(
  path: string,
  options: JsonlFeatureOptions = {},
): Promise<Dataset<Float32Array>> {
  const lines = new FeatureLines(path, options, await countFileLines(path));
  await eachFileLine(path, (l) => lines.add(l));
  return lines.finish();
}
