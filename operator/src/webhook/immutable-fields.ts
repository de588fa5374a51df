// The spec fields that may not change once a job exists, read from the generated CRD schema (the
// nodes carrying the `self == oldSelf` CEL rule, and the optional members a parent's immutableMember
// rule fixes), so the webhook and the CRD cannot disagree.
import { isDeepStrictEqual } from "node:util";
import {
  VALIDATIONS,
  immutable,
  immutableMemberKey,
  specJsonSchema,
  type CelRule,
  type FieldError,
} from "@sfprompt/api";

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  [VALIDATIONS]?: CelRule[];
}

const IMMUTABLE = immutable();

/** An immutable field: its path below `spec` and what the refusal says. */
interface ImmutableField {
  path: string[];
  message: string;
}

function collect(node: SchemaNode, path: string[], out: ImmutableField[]): ImmutableField[] {
  const rules = node[VALIDATIONS] ?? [];
  if (rules.some((r) => r.rule === IMMUTABLE.rule)) out.push({ path, message: IMMUTABLE.message });
  const keys = Object.keys(node.properties ?? {});
  for (const r of rules) {
    const key = immutableMemberKey(r, keys);
    if (key !== undefined) out.push({ path: [...path, key], message: r.message });
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) collect(child, [...path, key], out);
  return out;
}

let cached: ImmutableField[] | undefined;

function immutableFields(): ImmutableField[] {
  cached ??= collect(specJsonSchema() as SchemaNode, [], []);
  return cached;
}

/** Paths below `spec` of the immutable fields, e.g. [["model"], ["clients", "count"]]. */
export function immutableSpecPaths(): string[][] {
  return immutableFields().map((f) => f.path);
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path)
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/**
 * One error per immutable field whose value differs between the old and the new spec; a field set
 * on one side only (added or removed) differs too.
 */
export function immutableChanges(oldSpec: unknown, newSpec: unknown): FieldError[] {
  return immutableFields()
    .filter((f) => !isDeepStrictEqual(at(oldSpec, f.path), at(newSpec, f.path)))
    .map((f) => ({ path: ["spec", ...f.path].join("."), message: f.message }));
}
