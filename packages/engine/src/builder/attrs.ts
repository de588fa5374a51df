// Turns plain JS attribute values into tagged IR attributes (integers -> INT, other numbers -> FLOAT).
import type { Attr, Graph, Tensor } from "../ir/types.js";

/** What a builder accepts as an attribute value. Use `float(1)` for a float that happens to be whole. */
export type AttrInput = number | readonly number[] | string | readonly string[] | Tensor | Graph | Attr;

/** Marks a whole number as a FLOAT attribute (e.g. Gemm alpha=1.0). */
export function float(value: number): Attr {
  return { kind: "float", value };
}

/** Marks a list as FLOATS. */
export function floats(value: readonly number[]): Attr {
  return { kind: "floats", value: [...value] };
}

function isAttr(v: object): v is Attr {
  return "kind" in v && "value" in v;
}

function isTensor(v: object): v is Tensor {
  return "dtype" in v && "dims" in v && "data" in v;
}

/** Converts one builder attribute value to an IR attribute. */
export function toAttr(v: AttrInput): Attr {
  if (typeof v === "number")
    return Number.isInteger(v) ? { kind: "int", value: v } : { kind: "float", value: v };
  if (typeof v === "string") return { kind: "string", value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === "string") return { kind: "strings", value: [...(v as string[])] };
    const nums = v as number[];
    return nums.every(Number.isInteger)
      ? { kind: "ints", value: [...nums] }
      : { kind: "floats", value: [...nums] };
  }
  const o = v as object;
  if (isAttr(o)) return o;
  if (isTensor(o)) return { kind: "tensor", value: o };
  return { kind: "graph", value: o as Graph };
}

/** Converts a record of builder attribute values (undefined entries dropped). */
export function toAttrs(attrs: Record<string, AttrInput | undefined>): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = toAttr(v);
  return out;
}

/** Reads an INT attribute, with a default. */
export function attrInt(attrs: Record<string, Attr>, name: string, dflt: number): number {
  const a = attrs[name];
  return a !== undefined && a.kind === "int" ? a.value : dflt;
}

/** Reads a FLOAT attribute, with a default. */
export function attrFloat(attrs: Record<string, Attr>, name: string, dflt: number): number {
  const a = attrs[name];
  return a !== undefined && (a.kind === "float" || a.kind === "int") ? a.value : dflt;
}

/** Reads an INTS attribute (undefined when absent). */
export function attrInts(attrs: Record<string, Attr>, name: string): number[] | undefined {
  const a = attrs[name];
  return a !== undefined && a.kind === "ints" ? [...a.value] : undefined;
}

/** Reads a STRING attribute, with a default. */
export function attrString(attrs: Record<string, Attr>, name: string, dflt: string): string {
  const a = attrs[name];
  return a !== undefined && a.kind === "string" ? a.value : dflt;
}
