// Typed errors of this package, and the translation of zod issues into messages that name the field.
import type { z } from "zod";

/** One problem with one field, e.g. `spec.training.rounds: must be ≥ 1 (got 0)`. */
export interface FieldError {
  /** Dotted path from the object root, with [i] for list items: `spec.clients.tolerations[0].effect`. */
  path: string;
  message: string;
}

/** The job failed validation; `errors` names every offending field. */
export class JobValidationError extends Error {
  override readonly name = "JobValidationError";
  constructor(
    readonly errors: FieldError[],
    options?: { cause?: unknown },
  ) {
    super(`invalid SFPromptJob:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join("\n")}`, options);
  }
}

/** A manifest could not be read as YAML or holds no SFPromptJob. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Formats a path of keys and indices as `a.b[0].c`. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function got(issue: z.core.$ZodIssue): string {
  return "input" in issue && issue.input !== undefined ? ` (got ${shown(issue.input)})` : "";
}

const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  record: "a mapping",
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? `a ${expected}`;
}

/** A union's error is the error of the branch whose type matched (e.g. the string form of a quantity). */
function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first !== undefined && first.code !== "invalid_type") return describeIssue(first);
  }
  return `does not match any allowed form${got(issue)}`;
}

/** The message for one zod issue, phrased for someone editing YAML. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small": {
      const op = issue.inclusive === false ? ">" : "≥";
      const what = issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : "";
      return `must be ${op} ${String(issue.minimum)}${what}${got(issue)}`;
    }
    case "too_big": {
      const op = issue.inclusive === false ? "<" : "≤";
      const what = issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : "";
      return `must be ${op} ${String(issue.maximum)}${what}${got(issue)}`;
    }
    case "invalid_value": {
      const allowed = issue.values.map((v) => (typeof v === "string" ? v : shown(v)));
      const what = allowed.length === 1 ? String(allowed[0]) : `one of ${allowed.join(", ")}`;
      return `must be ${what}${got(issue)}`;
    }
    case "invalid_type":
      return issue.input === undefined
        ? `is required (${typeName(issue.expected)})`
        : `must be ${typeName(issue.expected)}${got(issue)}`;
    case "unrecognized_keys":
      return "is not a field here; check the spelling";
    case "invalid_format":
      return `${issue.message}${got(issue)}`;
    case "invalid_union":
      return unionMessage(issue);
    default:
      return issue.message;
  }
}

/**
 * A one-line summary of field errors for a file's message: the first one's path, and its message with
 * the others counted ("… (and 2 more: a, b)", at most three named); "(root)" / "invalid" for none.
 */
export function firstFieldError(errors: readonly FieldError[]): FieldError {
  const [first = { path: "(root)", message: "invalid" }, ...more] = errors;
  const others =
    more.length === 0
      ? ""
      : ` (and ${more.length} more: ${more
          .slice(0, 3)
          .map((e) => e.path)
          .join(", ")})`;
  return { path: first.path, message: `${first.message}${others}` };
}

/** How toFieldErrors words its messages. */
export interface FieldErrorOptions {
  /**
   * Whether a misspelt field or a scalar where a mapping goes points at `kubectl explain
   * sfpromptjob.<path>` (default true). False for a file that is not the user's SFPromptJob, whose
   * paths kubectl explain does not know (the process config file `sfprompt run` writes).
   */
  readonly explain?: boolean;
}

/** Turns zod issues into field errors under `prefix` (e.g. "spec"). */
export function toFieldErrors(
  error: z.ZodError,
  prefix = "",
  { explain = true }: FieldErrorOptions = {},
): FieldError[] {
  return error.issues.flatMap((issue) => {
    const message = describeIssue(issue);
    // One error per unknown key, so that each names the exact field to fix.
    if (issue.code === "unrecognized_keys") {
      const parent = formatPath(prefix, issue.path).replace(/\[\d+\]/g, "");
      const hint = explain ? ` (kubectl explain sfpromptjob.${parent} lists the fields)` : "";
      return issue.keys.map((key) => ({
        path: formatPath(prefix, [...issue.path, key]),
        message: message + hint,
      }));
    }
    const path = formatPath(prefix, issue.path);
    // a scalar or a list where a mapping goes (`clients: 4`): say where its fields are listed
    if (
      issue.code === "invalid_type" &&
      issue.input !== undefined &&
      issue.expected === "object" &&
      path !== "(root)" &&
      explain
    ) {
      const explained = path.replace(/\[\d+\]/g, "");
      return [{ path, message: `${message}; kubectl explain sfpromptjob.${explained} lists its fields` }];
    }
    return [{ path, message }];
  });
}
