// Shape rules of the ops that move, cut and join tensors without computing on them (Transpose,
// Reshape, Concat, Slice, Gather, Squeeze, Split, ...).
import { attrInt, attrInts } from "../builder/attrs.js";
import type { Dim } from "../ir/types.js";
import { broadcastShapes, normAxis, reshapeDims } from "./dims.js";
import { constInts } from "./facts.js";
import { dt, facts, sh, type Rule } from "./rule-kit.js";

const transpose: Rule = (ctx) => {
  const s = sh(ctx);
  if (s === undefined) return [{ dtype: dt(ctx) }];
  const perm = attrInts(ctx.node.attrs, "perm") ?? s.map((_, i) => s.length - 1 - i);
  return [
    facts(
      dt(ctx),
      perm.map((p) => s[p] as Dim),
    ),
  ];
};

const reshape: Rule = (ctx) => {
  const target = ctx.ins[1]?.value;
  if (target === undefined) {
    const n = ctx.ins[1]?.shape?.[0];
    return [typeof n === "number" ? facts(dt(ctx), Array<Dim>(n).fill(null)) : { dtype: dt(ctx) }];
  }
  return [facts(dt(ctx), reshapeDims(sh(ctx), target, attrInt(ctx.node.attrs, "allowzero", 0) === 1))];
};

const flatten: Rule = (ctx) => {
  const s = sh(ctx);
  if (s === undefined) return [{ dtype: dt(ctx) }];
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 1), s.length);
  const prod = (ds: readonly Dim[]): Dim =>
    ds.length === 1
      ? (ds[0] as Dim)
      : ds.every((d) => typeof d === "number")
        ? (ds as number[]).reduce((x, y) => x * y, 1)
        : null;
  return [facts(dt(ctx), [prod(s.slice(0, axis)), prod(s.slice(axis))])];
};

const concat: Rule = (ctx) => {
  const shapes = ctx.ins.map((f) => f?.shape);
  const known = shapes.find((s) => s !== undefined);
  if (known === undefined) return [{ dtype: dt(ctx) }];
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 0), known.length);
  const out = [...known];
  let total: Dim = 0;
  for (const s of shapes) {
    const d = s?.[axis];
    total = typeof total === "number" && typeof d === "number" ? total + d : null;
  }
  out[axis] = total;
  for (const s of shapes) {
    if (s === undefined) continue;
    s.forEach((d, i) => {
      if (i !== axis && typeof d === "number") out[i] = d;
    });
  }
  return [facts(dt(ctx), out)];
};

function sliceDim(d: Dim, start: number, end: number, step: number): Dim {
  if (typeof d !== "number") {
    // bounds are clamped to a size known only at run time: [1, 100) of "seq" is not 99 long when seq
    // is 32, so only a slice of the whole axis keeps its symbol (ADR 0006 amendment 5)
    return start === 0 && end >= 2 ** 31 && step === 1 ? d : null;
  }
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const s =
    step > 0 ? clamp(start < 0 ? start + d : start, 0, d) : clamp(start < 0 ? start + d : start, -1, d - 1);
  const e = step > 0 ? clamp(end < 0 ? end + d : end, 0, d) : clamp(end < 0 ? end + d : end, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

const slice: Rule = (ctx) => {
  const s = sh(ctx);
  if (s === undefined) return [{ dtype: dt(ctx) }];
  const starts = constInts(ctx, 1);
  const rawEnds = ctx.ins[2]?.value;
  const axes = ctx.node.inputs[3] ? constInts(ctx, 3) : starts?.map((_, i) => i);
  // A symbolic end with start 0 (position_ids[:, :seq]) keeps the symbol: the slice is assumed in range.
  if (
    starts?.length === 1 &&
    starts[0] === 0 &&
    rawEnds?.length === 1 &&
    typeof rawEnds[0] === "string" &&
    axes
  ) {
    const ax = normAxis(axes[0] as number, s.length);
    return [
      facts(
        dt(ctx),
        s.map((d, i) => (i === ax ? (rawEnds[0] as Dim) : d)),
      ),
    ];
  }
  const ends = constInts(ctx, 2);
  const steps = ctx.node.inputs[4] ? constInts(ctx, 4) : starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) {
    const known = ctx.node.inputs[3] ? constInts(ctx, 3) : undefined;
    return [
      facts(
        dt(ctx),
        s.map((d, i) => (known && !known.map((a) => normAxis(a, s.length)).includes(i) ? d : null)),
      ),
    ];
  }
  const out = [...s];
  axes.forEach((a, i) => {
    const ax = normAxis(a, s.length);
    out[ax] = sliceDim(s[ax] as Dim, starts[i] as number, ends[i] as number, steps[i] as number);
  });
  return [facts(dt(ctx), out)];
};

const gather: Rule = (ctx) => {
  const s = sh(ctx, 0);
  const idx = sh(ctx, 1);
  if (s === undefined || idx === undefined) return [{ dtype: dt(ctx) }];
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 0), s.length);
  return [facts(dt(ctx), [...s.slice(0, axis), ...idx, ...s.slice(axis + 1)])];
};

const unsqueeze: Rule = (ctx) => {
  const s = sh(ctx);
  const axes = ctx.opset >= 13 ? constInts(ctx, 1) : attrInts(ctx.node.attrs, "axes");
  if (s === undefined || axes === undefined) return [{ dtype: dt(ctx) }];
  const rank = s.length + axes.length;
  const ax = axes.map((a) => normAxis(a, rank));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : (s[j++] as Dim));
  return [facts(dt(ctx), out)];
};

const squeeze: Rule = (ctx) => {
  const s = sh(ctx);
  const axes =
    ctx.opset >= 13 ? (ctx.node.inputs[1] ? constInts(ctx, 1) : undefined) : attrInts(ctx.node.attrs, "axes");
  if (s === undefined) return [{ dtype: dt(ctx) }];
  const ax = axes?.map((a) => normAxis(a, s.length));
  return [
    facts(
      dt(ctx),
      s.filter((d, i) => (ax ? !ax.includes(i) : d !== 1)),
    ),
  ];
};

const expand: Rule = (ctx) => {
  const s = sh(ctx);
  const target = ctx.ins[1]?.value;
  if (s === undefined || target === undefined) {
    const n = ctx.ins[1]?.shape?.[0];
    return [
      typeof n === "number" && s
        ? facts(dt(ctx), Array<Dim>(Math.max(n, s.length)).fill(null))
        : { dtype: dt(ctx) },
    ];
  }
  return [facts(dt(ctx), broadcastShapes([s, target]))];
};

const split: Rule = (ctx) => {
  const s = sh(ctx);
  const n = ctx.node.outputs.length;
  if (s === undefined) return ctx.node.outputs.map(() => ({ dtype: dt(ctx) }));
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 0), s.length);
  const sizes =
    ctx.opset >= 13
      ? ctx.node.inputs[1]
        ? constInts(ctx, 1)
        : undefined
      : attrInts(ctx.node.attrs, "split");
  const d = s[axis];
  return ctx.node.outputs.map((_, i) => {
    const size = sizes
      ? sizes[i]
      : typeof d === "number"
        ? Math.ceil(d / n) - (i === n - 1 ? Math.ceil(d / n) * n - d : 0)
        : null;
    return facts(
      dt(ctx),
      s.map((x, j) => (j === axis ? (size ?? null) : x)),
    );
  });
};

export const LAYOUT_RULES: Record<string, Rule> = {
  Transpose: transpose,
  Reshape: reshape,
  Flatten: flatten,
  Concat: concat,
  Slice: slice,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: expand,
  Split: split,
};
