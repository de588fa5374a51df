// The labels of JSON Lines data: a line's label (a string or a non-negative int) as it reads, and
// every line's mapped to class ids once the file is read, with the job's class list or one derived.
import { LabelError } from "./errors.js";
import type { JsonlLine as Line } from "./jsonl-lines.js";

export interface JsonlLabelOptions {
  /** Field holding the label (default "label"). */
  labelField?: string;
  /**
   * The job's class list: string labels map to their position, int labels must index it. Without
   * it, string labels get their sorted unique values and int labels the names "0".."max".
   */
  classNames?: readonly string[];
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

// Labels as the lines give them, resolved once every line is read.
export class LabelColumn {
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
