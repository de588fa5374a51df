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
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => shown(v)).join(", ")}${got(issue)}`;
    case "invalid_type":
      return issue.input === undefined
        ? `is required (a ${issue.expected})`
        : `must be a ${issue.expected}${got(issue)}`;
    case "unrecognized_keys":
      return "is not a field here; check the spelling (kubectl explain sfpromptjob.spec lists the fields)";
    case "invalid_format":
      return `${issue.message}${got(issue)}`;
    case "invalid_union":
      return `does not match any allowed form${got(issue)}`;
    default:
      return issue.message;
  }
}

/** Turns zod issues into field errors under `prefix` (e.g. "spec"). */
export function toFieldErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return error.issues.map((issue) => ({
    path: formatPath(prefix, issue.path),
    message: describeIssue(issue),
  }));
}
