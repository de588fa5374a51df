// What the API server does with a structural schema, reimplemented small for tests: defaulting,
// value validation, and CEL rules (evaluated with @marcbachmann/cel-js). Integration tests against
// a real kube-apiserver (operator/) check the same CRD for real.
import { evaluate } from "@marcbachmann/cel-js";
import type { SchemaNode } from "../../src/index.js";

type Value = unknown;

function isObj(v: Value): v is Record<string, Value> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function props(node: SchemaNode): Record<string, SchemaNode> {
  return (node.properties as Record<string, SchemaNode> | undefined) ?? {};
}

/** Visits every schema node with its path (`.a.b`, `[]` for items, `[*]` for map values). */
export function walkSchema(node: SchemaNode, visit: (n: SchemaNode, path: string) => void, path = ""): void {
  visit(node, path);
  for (const [k, v] of Object.entries(props(node))) walkSchema(v, visit, `${path}.${k}`);
  if (isObj(node.items)) walkSchema(node.items as SchemaNode, visit, `${path}[]`);
  if (isObj(node.additionalProperties))
    walkSchema(node.additionalProperties as SchemaNode, visit, `${path}[*]`);
}

/** The API server's defaulting: absent fields with a default get it, then defaults apply inside. */
export function applyDefaults(node: SchemaNode, value: Value): Value {
  if (isObj(value) && node.type === "object") {
    const out: Record<string, Value> = { ...value };
    for (const [k, child] of Object.entries(props(node))) {
      if (out[k] === undefined && child.default !== undefined) out[k] = structuredClone(child.default);
      if (out[k] !== undefined) out[k] = applyDefaults(child, out[k]);
    }
    if (isObj(node.additionalProperties)) {
      for (const k of Object.keys(out)) {
        if (!(k in props(node))) out[k] = applyDefaults(node.additionalProperties as SchemaNode, out[k]);
      }
    }
    return out;
  }
  if (Array.isArray(value) && isObj(node.items))
    return value.map((v) => applyDefaults(node.items as SchemaNode, v));
  return value;
}

function typeErrors(node: SchemaNode, value: Value, path: string): string[] {
  if (node["x-kubernetes-int-or-string"] === true) {
    return Number.isInteger(value) || typeof value === "string" ? [] : [`${path}: not int-or-string`];
  }
  const ok: Record<string, (v: Value) => boolean> = {
    object: isObj,
    array: Array.isArray,
    string: (v) => typeof v === "string",
    integer: (v) => Number.isInteger(v),
    number: (v) => typeof v === "number",
    boolean: (v) => typeof v === "boolean",
  };
  const check = ok[String(node.type)];
  return check === undefined || check(value) ? [] : [`${path}: expected ${String(node.type)}`];
}

function valueErrors(node: SchemaNode, value: Value, path: string): string[] {
  const errs: string[] = [];
  if (Array.isArray(node.enum) && !node.enum.includes(value)) errs.push(`${path}: not in enum`);
  if (typeof value === "number") {
    const min = node.minimum as number | undefined;
    const max = node.maximum as number | undefined;
    if (min !== undefined && (node.exclusiveMinimum === true ? value <= min : value < min))
      errs.push(`${path}: < min`);
    if (max !== undefined && (node.exclusiveMaximum === true ? value >= max : value > max))
      errs.push(`${path}: > max`);
  }
  if (typeof value === "string") {
    if (typeof node.minLength === "number" && value.length < node.minLength) errs.push(`${path}: too short`);
    if (typeof node.maxLength === "number" && value.length > node.maxLength) errs.push(`${path}: too long`);
    if (typeof node.pattern === "string" && !new RegExp(node.pattern).test(value))
      errs.push(`${path}: pattern`);
  }
  if (Array.isArray(value) && typeof node.maxItems === "number" && value.length > node.maxItems) {
    errs.push(`${path}: too many items`);
  }
  return errs;
}

/** Schema validation errors of `value` (types, enums, ranges, lengths, patterns, required, unknown). */
export function validate(node: SchemaNode, value: Value, path = ""): string[] {
  const errs = [...typeErrors(node, value, path), ...valueErrors(node, value, path)];
  if (errs.length > 0) return errs;
  if (isObj(value)) {
    for (const r of (node.required as string[] | undefined) ?? []) {
      if (value[r] === undefined) errs.push(`${path}.${r}: required`);
    }
    for (const [k, v] of Object.entries(value)) {
      const child =
        props(node)[k] ??
        (isObj(node.additionalProperties) ? (node.additionalProperties as SchemaNode) : undefined);
      if (child === undefined) errs.push(`${path}.${k}: unknown field`);
      else errs.push(...validate(child, v, `${path}.${k}`));
    }
  }
  if (Array.isArray(value) && node["x-kubernetes-list-type"] === "map") {
    // a list-map holds one item per key tuple, as the API server enforces ("Duplicate value")
    const keys = (node["x-kubernetes-list-map-keys"] as string[] | undefined) ?? [];
    const seen = new Set<string>();
    value.forEach((v, i) => {
      const key = JSON.stringify(keys.map((k) => (isObj(v) ? v[k] : undefined)));
      if (seen.has(key)) errs.push(`${path}[${i}]: Duplicate value`);
      seen.add(key);
    });
  }
  if (Array.isArray(value) && node["x-kubernetes-list-type"] === "set") {
    // a set list holds each scalar once, as the API server enforces ("Duplicate value")
    const seen = new Set<string>();
    value.forEach((v, i) => {
      if (seen.has(JSON.stringify(v))) errs.push(`${path}[${i}]: Duplicate value`);
      seen.add(JSON.stringify(v));
    });
  }
  if (Array.isArray(value) && isObj(node.items)) {
    value.forEach((v, i) => errs.push(...validate(node.items as SchemaNode, v, `${path}[${i}]`)));
  }
  return errs;
}

/** The value as CEL sees it under `node`: integers become int (BigInt), as the API server does. */
export function celValue(node: SchemaNode, value: Value): Value {
  if (node.type === "integer" && typeof value === "number") return BigInt(value);
  if (isObj(value)) {
    const out: Record<string, Value> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = props(node)[k] ?? (node.additionalProperties as SchemaNode | undefined);
      out[k] = child === undefined || !isObj(child) ? v : celValue(child, v);
    }
    return out;
  }
  if (Array.isArray(value) && isObj(node.items))
    return value.map((v) => celValue(node.items as SchemaNode, v));
  return value;
}

/** Messages of the CEL rules that fail on `value` (and `old` for transition rules). */
export function celErrors(node: SchemaNode, value: Value, old?: Value, path = ""): string[] {
  const errs: string[] = [];
  const rules = (node["x-kubernetes-validations"] as { rule: string; message: string }[] | undefined) ?? [];
  for (const r of rules) {
    const transition = r.rule.includes("oldSelf");
    if (transition && old === undefined) continue;
    const ctx = { self: celValue(node, value), oldSelf: old === undefined ? null : celValue(node, old) };
    let ok: unknown;
    try {
      ok = evaluate(r.rule, ctx);
    } catch (e) {
      errs.push(`${path}: rule ${r.rule} failed to evaluate: ${(e as Error).message}`);
      continue;
    }
    if (ok !== true) errs.push(`${path}: ${r.message}`);
  }
  if (isObj(value)) {
    for (const [k, child] of Object.entries(props(node))) {
      if (value[k] === undefined) continue;
      const o = isObj(old) ? old[k] : undefined;
      errs.push(...celErrors(child, value[k], o, `${path}.${k}`));
    }
  }
  // items' own rules (transition rules on items are not used: no old value per item here)
  if (Array.isArray(value) && isObj(node.items))
    value.forEach((v, i) => errs.push(...celErrors(node.items as SchemaNode, v, undefined, `${path}[${i}]`)));
  return errs;
}
