// Arithmetic on symbolic shapes: broadcasting, axis normalisation, products with symbols.
import type { Dim } from "../ir/types.js";

/** Normalises a possibly negative axis for a tensor of rank `rank`. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Broadcasts two dims (numpy rules); symbols are assumed compatible with each other and with 1. */
export function broadcastDim(a: Dim, b: Dim): Dim {
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === "number") return a;
  if (typeof b === "number") return b;
  if (a === b) return a;
  return a ?? b;
}

/** Numpy broadcast of several shapes. */
export function broadcastShapes(shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const j = i - (rank - s.length);
      if (j >= 0) d = broadcastDim(d, s[j] as Dim);
    }
    out.push(d);
  }
  return out;
}

/** True when every dim is a known number. */
export function isStatic(shape: readonly Dim[] | undefined): shape is number[] {
  return shape !== undefined && shape.every((d) => typeof d === "number");
}

/** Resolves a Reshape target (0 = copy, -1 = infer) against the input shape. */
export function reshapeDims(
  input: readonly Dim[] | undefined,
  target: readonly Dim[],
  allowZero: boolean,
): Dim[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? (input?.[i] ?? null) : d));
  const minus = out.indexOf(-1);
  if (minus < 0) return out;
  if (input === undefined) {
    out[minus] = null;
    return out;
  }
  const num = factor(input);
  const den = factor(out.filter((_, i) => i !== minus));
  for (const s of den.symbols) {
    const k = num.symbols.indexOf(s);
    if (k < 0) {
      out[minus] = null;
      return out;
    }
    num.symbols.splice(k, 1);
  }
  if (den.unknown || num.unknown || num.value % den.value !== 0) out[minus] = null;
  else out[minus] = productDim(num.value / den.value, num.symbols);
  return out;
}

/** A canonical dim for value × symbols ("4*batch"), so equal products compare equal as strings. */
export function productDim(value: number, symbols: readonly string[]): Dim {
  if (symbols.length === 0) return value;
  const parts = [...(value === 1 ? [] : [String(value)]), ...[...symbols].sort()];
  return parts.join("*");
}

/** Multiplies two dims, keeping symbolic products. */
export function mulDims(a: Dim, b: Dim): Dim {
  if (a === null || b === null) return null;
  const f = factor([a, b]);
  return productDim(f.value, f.symbols);
}

function factor(dims: readonly Dim[]): { value: number; symbols: string[]; unknown: boolean } {
  let value = 1;
  const symbols: string[] = [];
  let unknown = false;
  for (const d of dims) {
    if (typeof d === "number") value *= d;
    else if (typeof d === "string") {
      for (const p of d.split("*")) {
        if (/^[0-9]+$/.test(p)) value *= Number(p);
        else symbols.push(p);
      }
    } else unknown = true;
  }
  return { value, symbols, unknown };
}
