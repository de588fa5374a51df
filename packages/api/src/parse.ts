// Validation entry points: parse a whole job or a bare spec, with defaults applied and errors that
// name the field.
import { JobValidationError, toFieldErrors, type FieldError } from "./errors.js";
import { SFPromptJobSchema, type SFPromptJob } from "./job.js";
import { SpecSchema, type Spec } from "./spec.js";

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Validates an SFPromptJob object (e.g. from YAML or the API server) and fills in every default. */
export function parseJob(obj: unknown): ParseResult<SFPromptJob> {
  const r = SFPromptJobSchema.safeParse(obj, { reportInput: true });
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: toFieldErrors(r.error) };
}

/** Validates a bare spec; error paths start with `spec.`. */
export function parseSpec(spec: unknown): ParseResult<Spec> {
  const r = SpecSchema.safeParse(spec ?? {}, { reportInput: true });
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: toFieldErrors(r.error, "spec") };
}

/** The job with every default filled in; throws JobValidationError naming each bad field. */
export function applyDefaults(obj: unknown): SFPromptJob {
  const r = parseJob(obj);
  if (!r.ok) throw new JobValidationError(r.errors);
  return r.value;
}
