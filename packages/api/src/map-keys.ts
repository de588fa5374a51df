// Records whose key bounds reach the CRD: zod's OpenAPI 3.0 output (and a structural schema) has no
// propertyNames, so the bounds of a record's keys (resource names, node-selector keys) would be
// checked by zod only; here they also become a CEL rule over the map's keys.
import { z } from "zod";
import { VALIDATIONS, type CelRule } from "./rules.js";
import { checkPortablePattern, type SchemaNode } from "./structural.js";

/** Key keywords this file turns into CEL; any other would be lost, so it is refused. */
const HANDLED = new Set(["type", "description", "minLength", "maxLength", "pattern", "$schema"]);

/** Thrown for a key constraint that has no CEL form here; `path` names the map. */
export class MapKeysError extends Error {
  override readonly name = "MapKeysError";
  constructor(path: string, keyword: string) {
    super(
      `${path}: the record's keys use ${keyword}, which the CRD generator cannot carry; drop it or extend map-keys.ts`,
    );
  }
}

function celString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** The rule over every key of the map, or undefined when `keys` constrains nothing. */
export function mapKeysRule(keys: SchemaNode, path: string): CelRule | undefined {
  for (const k of Object.keys(keys)) if (!HANDLED.has(k)) throw new MapKeysError(path, k);
  const checks: string[] = [];
  const says: string[] = [];
  const min = typeof keys.minLength === "number" ? keys.minLength : undefined;
  const max = typeof keys.maxLength === "number" ? keys.maxLength : undefined;
  if (min !== undefined && min > 0) checks.push(`size(k) >= ${min}`);
  if (max !== undefined) checks.push(`size(k) <= ${max}`);
  if (min !== undefined && max !== undefined) says.push(`be ${min} to ${max} characters long`);
  else if (min !== undefined && min > 0) says.push(`have at least ${min} characters`);
  else if (max !== undefined) says.push(`have at most ${max} characters`);
  if (typeof keys.pattern === "string") {
    checkPortablePattern(keys.pattern, path);
    checks.push(`k.matches(${celString(keys.pattern)})`);
    says.push(`match ${keys.pattern}`);
  }
  if (checks.length === 0) return undefined;
  return { rule: `self.all(k, ${checks.join(" && ")})`, message: `every key must ${says.join(" and ")}` };
}

/** `z.record(keys, values)` whose CRD form checks the keys as zod does. */
export function boundedRecord<V extends z.ZodType>(
  keys: z.ZodString,
  values: V,
): z.ZodRecord<z.ZodString, V> {
  const keySchema = z.toJSONSchema(keys, { target: "openapi-3.0", io: "input" }) as SchemaNode;
  const rule = mapKeysRule(keySchema, "(record keys)");
  return z.record(keys, values).meta(rule === undefined ? {} : { [VALIDATIONS]: [rule] });
}
