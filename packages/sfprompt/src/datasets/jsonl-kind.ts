// Which kind of sample a JSONL line holds, text (a string in "text" or the configured field, or "ids")
// or number features (an array in the configured field, else in "x" or "input"), checked on every
// line: the first line of the other kind is refused by its number and field, as the file's first line
// (JsonlKindError) or a later one (JsonlMixedKindError).
import { JsonlKindError, JsonlMixedKindError, type JsonlSampleKind } from "./errors.js";
import type { JsonlLine } from "./jsonl-lines.js";

type Record_ = Readonly<Record<string, unknown>>;

/** The field holding text: the named field (jsonl.inputField) when it holds a string, "text" or "ids". */
function textField(record: Record_, inputField: string | undefined): string | undefined {
  if (inputField !== undefined && typeof record[inputField] === "string") return inputField;
  return "text" in record ? "text" : "ids" in record ? "ids" : undefined;
}

/**
 * The field holding number features: an array (a string "input" is a sentence of a text file, whose
 * own reader says which fields a text line needs, not a line of number features).
 */
function featuresField(record: Record_, inputField: string | undefined): string | undefined {
  const fields = inputField !== undefined ? [inputField] : ["x", "input"];
  return fields.find((f) => Array.isArray(record[f]));
}

/** Checks that each line of one file holds the kind of sample its reader takes. */
export class JsonlKindCheck {
  #first: { line: number; field: string } | undefined;
  constructor(
    private readonly path: string,
    /** The kind the reader takes. */
    private readonly wanted: JsonlSampleKind,
    /**
     * The input field the user named (jsonl.inputField): features when it holds an array, text when
     * it holds a string; unset: features in "x", else "input", text in "text".
     */
    private readonly inputField: string | undefined,
  ) {}

  /** Throws when `line` holds only the other kind; a line with both kinds reads as either. */
  check(line: JsonlLine): void {
    const text = textField(line.record, this.inputField);
    const features = featuresField(line.record, this.inputField);
    const [own, other] = this.wanted === "text" ? [text, features] : [features, text];
    if (own !== undefined) {
      this.#first ??= { line: line.number, field: own };
      return;
    }
    if (other === undefined) return; // neither kind: the reader's own error names what is missing
    const holds: JsonlSampleKind = this.wanted === "text" ? "features" : "text";
    if (this.#first === undefined) {
      const wantedField = this.inputField ?? (this.wanted === "text" ? "text" : "x");
      throw new JsonlKindError(`${this.path}:${line.number}`, holds, other, wantedField);
    }
    throw new JsonlMixedKindError(this.path, line.number, holds, other, this.#first.line, this.#first.field);
  }
}
