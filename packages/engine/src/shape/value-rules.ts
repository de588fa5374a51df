// Propagates the values of small integer tensors (shape arithmetic of exports: Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape), so Reshape/Expand targets are known even with a symbolic batch.
import { attrInt } from "../builder/attrs.js";
import type { Dim } from "../ir/types.js";
import { mulDims, normAxis } from "./dims.js";
import { constInts, type OpContext } from "./facts.js";

type ValueRule = (ctx: OpContext) => Dim[] | undefined;

const val = (ctx: OpContext, i: number): readonly Dim[] | undefined => ctx.ins[i]?.value;

function elementwise(f: (a: number, b: number) => number | undefined): ValueRule {
  return (ctx) => {
    const a = val(ctx, 0);
    const b = val(ctx, 1);
    if (a === undefined || b === undefined) return undefined;
    const n = Math.max(a.length, b.length);
    if (a.length !== n && a.length !== 1) return undefined;
    if (b.length !== n && b.length !== 1) return undefined;
    return Array.from({ length: n }, (_, i) => {
      const x = a[a.length === 1 ? 0 : i] as Dim;
      const y = b[b.length === 1 ? 0 : i] as Dim;
      if (typeof x === "number" && typeof y === "number") return f(x, y) ?? null;
      // A dim symbol is never negative: exports compare shapes with -1 to pick Expand targets.
      if (
        f === eqF &&
        ((typeof x === "string" && typeof y === "number" && y < 0) ||
          (typeof y === "string" && typeof x === "number" && x < 0))
      )
        return 0;
      if (typeof x === "string" && y === (f === mulF || f === divF ? 1 : 0)) return x;
      return null;
    });
  };
}

const eqF = (a: number, b: number): number => (a === b ? 1 : 0);
const mulF = (a: number, b: number): number => a * b;
const divF = (a: number, b: number): number | undefined => (b === 0 ? undefined : Math.trunc(a / b));

const shapeValue: ValueRule = (ctx) => {
  const s = ctx.ins[0]?.shape;
  if (s === undefined) return undefined;
  const start = normAxis(attrInt(ctx.node.attrs, "start", 0), s.length);
  const end =
    ctx.node.attrs["end"] === undefined ? s.length : normAxis(attrInt(ctx.node.attrs, "end", 0), s.length);
  return s.slice(Math.max(0, start), Math.max(0, end));
};

const gatherValue: ValueRule = (ctx) => {
  const data = val(ctx, 0);
  const idx = constInts(ctx, 1);
  if (data === undefined || idx === undefined || (ctx.ins[0]?.shape?.length ?? 0) > 1) return undefined;
  return idx.map((i) => (data[i < 0 ? i + data.length : i] as Dim | undefined) ?? null);
};

const sliceValue: ValueRule = (ctx) => {
  const data = val(ctx, 0);
  const starts = constInts(ctx, 1);
  const ends = constInts(ctx, 2);
  const steps = ctx.node.inputs[4] ? constInts(ctx, 4) : [1];
  if (!data || !starts || !ends || !steps || starts.length !== 1 || steps[0] !== 1) return undefined;
  const n = data.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  return data.slice(clamp(starts[0] as number), clamp(ends[0] as number));
};

const passThrough: ValueRule = (ctx) => (val(ctx, 0) === undefined ? undefined : [...(val(ctx, 0) as Dim[])]);

const concatValue: ValueRule = (ctx) => {
  const parts = ctx.ins.map((f) => f?.value);
  if (parts.some((p) => p === undefined)) return undefined;
  return (parts as Dim[][]).flat();
};

const constantOfShapeValue: ValueRule = (ctx) => {
  const target = constInts(ctx, 0);
  const v = ctx.node.attrs["value"];
  if (target === undefined || target.reduce((a, b) => a * b, 1) > 64) return undefined;
  const fill = v?.kind === "tensor" ? Number((v.value.data as ArrayLike<number | bigint>)[0] ?? 0) : 0;
  return Array<Dim>(target.reduce((a, b) => a * b, 1)).fill(fill);
};

const rangeValue: ValueRule = (ctx) => {
  const [s, l, d] = [constInts(ctx, 0)?.[0], constInts(ctx, 1)?.[0], constInts(ctx, 2)?.[0]];
  if (s === undefined || l === undefined || d === undefined || d === 0) return undefined;
  const n = Math.max(0, Math.ceil((l - s) / d));
  return n > 64 ? undefined : Array.from({ length: n }, (_, i) => s + i * d);
};

const whereValue: ValueRule = (ctx) => {
  const c = val(ctx, 0);
  const a = val(ctx, 1);
  const b = val(ctx, 2);
  if (!c || !a || !b) return undefined;
  const n = Math.max(c.length, a.length, b.length);
  const at = (v: readonly Dim[], i: number): Dim => (v.length === 1 ? (v[0] as Dim) : (v[i] as Dim));
  return Array.from({ length: n }, (_, i) => {
    const ci = at(c, i);
    return ci === null || typeof ci === "string" ? null : ci !== 0 ? at(a, i) : at(b, i);
  });
};

export const VALUE_RULES: Record<string, ValueRule> = {
  Shape: shapeValue,
  Gather: gatherValue,
  Slice: sliceValue,
  Unsqueeze: passThrough,
  Squeeze: passThrough,
  Reshape: passThrough,
  Identity: passThrough,
  Cast: (ctx) => (["int64", "int32"].includes(ctx.ins[0]?.dtype ?? "") ? passThrough(ctx) : undefined),
  Concat: concatValue,
  Add: elementwise((a, b) => a + b),
  Sub: elementwise((a, b) => a - b),
  Mul: (ctx) => {
    const a = val(ctx, 0);
    const b = val(ctx, 1);
    if (a?.length === 1 && b?.length === 1) return [mulDims(a[0] as Dim, b[0] as Dim)];
    return elementwise(mulF)(ctx);
  },
  Div: elementwise(divF),
  Equal: elementwise(eqF),
  Where: whereValue,
  ConstantOfShape: constantOfShapeValue,
  Range: rangeValue,
  Size: (ctx) => {
    const s = ctx.ins[0]?.shape;
    return s?.every((d) => typeof d === "number") ? [(s as number[]).reduce((a, b) => a * b, 1)] : undefined;
  },
};
