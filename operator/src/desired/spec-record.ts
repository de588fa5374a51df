// What a finished job's ConfigMap records of the spec the job finished with: one short digest per
// spec field (two levels deep: `training.optimizer`, `clients.nodeSelector`, `method`), so that a later
// edit can be told apart field by field without keeping a copy of the spec (ADR 0034, amendment 1). Pure.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { Spec } from "@sfprompt/api";
import { canonicalJson } from "../canonical-json.js";
import { ANNOTATION_FINISHED_SPEC, digest } from "../names.js";

/** The one spec field a finished job still follows: it is the operator's, for deleting the job. */
const FOLLOWED_WHEN_FINISHED = new Set(["ttlSecondsAfterFinished"]);

export interface SpecRecord {
  /** metadata.generation of the spec recorded. */
  generation: number | undefined;
  /** Digest per field path (without `spec.`). */
  fields: Record<string, string>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A digest per field of `spec`, two levels deep; absent fields have none. */
export function specFieldDigests(spec: Spec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (value === undefined || FOLLOWED_WHEN_FINISHED.has(key)) continue;
    if (!isPlainObject(value)) {
      out[key] = digest(canonicalJson(value), 8);
      continue;
    }
    for (const [sub, v] of Object.entries(value)) {
      if (v !== undefined) out[`${key}.${sub}`] = digest(canonicalJson(v), 8);
    }
  }
  return out;
}

/** The annotation value that records `spec` of `generation`. */
export function specRecordAnnotation(spec: Spec, generation: number | undefined): string {
  return JSON.stringify({ generation, fields: specFieldDigests(spec) });
}

/** The record on `cm`, if it carries a readable one. */
export function recordedSpec(cm: V1ConfigMap | undefined): SpecRecord | undefined {
  const text = cm?.metadata?.annotations?.[ANNOTATION_FINISHED_SPEC];
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as { generation?: unknown; fields?: unknown };
    if (!isPlainObject(v.fields)) return undefined;
    const fields = Object.fromEntries(
      Object.entries(v.fields).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
    return { generation: typeof v.generation === "number" ? v.generation : undefined, fields };
  } catch {
    // Edited by hand into something else: treated as no record (the edit is still answered).
    return undefined;
  }
}

/** Field paths (with `spec.`) whose value in `spec` differs from the record, in the spec's order. */
export function changedFields(record: SpecRecord, spec: Spec): string[] {
  const now = specFieldDigests(spec);
  const paths = [...new Set([...Object.keys(now), ...Object.keys(record.fields)])];
  return paths.filter((p) => now[p] !== record.fields[p]).map((p) => `spec.${p}`);
}
