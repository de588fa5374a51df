// The spec fields that may not change once a job exists, read from the generated CRD schema (the
// nodes carrying the `self == oldSelf` CEL rule), so the webhook and the CRD cannot disagree.
import { isDeepStrictEqual } from "node:util";
import { VALIDATIONS, immutable, specJsonSchema, type CelRule, type FieldError } from "@sfprompt/api";

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  [VALIDATIONS]?: CelRule[];
}

function collect(node: SchemaNode, path: string[], out: string[][]): string[][] {
  const rule = immutable().rule;
  if (node[VALIDATIONS]?.some((r) => r.rule === rule)) out.push(path);
  for (const [key, child] of Object.entries(node.properties ?? {})) collect(child, [...path, key], out);
  return out;
}

let cached: string[][] | undefined;

/** Paths below `spec` of the immutable fields, e.g. [["model"], ["clients", "count"]]. */
export function immutableSpecPaths(): string[][] {
  cached ??= collect(specJsonSchema() as SchemaNode, [], []);
  return cached;
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path)
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** One error per immutable field whose value differs between the old and the new spec. */
export function immutableChanges(oldSpec: unknown, newSpec: unknown): FieldError[] {
  return immutableSpecPaths()
    .filter((p) => !isDeepStrictEqual(at(oldSpec, p), at(newSpec, p)))
    .map((p) => ({
      path: ["spec", ...p].join("."),
      message: "field is immutable: delete the job and create a new one to change it",
    }));
}
