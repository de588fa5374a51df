// Gradient rules of data-movement ops: Reshape-like ops, Transpose, Concat, Split, Slice, Expand, Reduce*.
import { attrInt, attrInts } from "../../builder/attrs.js";
import type { Dim } from "../../ir/types.js";
import { isStatic, normAxis } from "../../shape/dims.js";
import { outShape, range, reduceTo } from "../broadcast.js";
import type { GradRule, RuleContext } from "../rule-context.js";

/** A shape tensor for x: a constant when static, else Shape(x). */
function shapeTensor(ctx: RuleContext, x: string): string {
  const s = ctx.info(x).shape;
  return isStatic(s) ? ctx.b.ints(s) : ctx.shapeOf(x);
}

// Reshape, Flatten, Squeeze, Unsqueeze only rearrange the same elements.
const reshapeBack: GradRule = (ctx) => [ctx.op("Reshape", [ctx.dy0(), shapeTensor(ctx, ctx.in(0))])];

const transpose: GradRule = (ctx) => {
  const r = ctx.rank(ctx.in(0));
  const perm = attrInts(ctx.node.attrs, "perm") ?? range(r).reverse();
  const inv = new Array<number>(r);
  perm.forEach((p, i) => (inv[p] = i));
  return [ctx.op("Transpose", [ctx.dy0()], { perm: inv })];
};

const concat: GradRule = (ctx) => {
  const r = ctx.rank(ctx.out());
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 0), r);
  const sizes = ctx.node.inputs.map((x) => ctx.info(x).shape[axis] as Dim);
  let parts: string[];
  if (sizes.every((d) => typeof d === "number")) {
    parts = ctx.b.split(ctx.dy0(), axis, sizes as number[], { name: `${ctx.node.name}/grad/Split` });
  } else {
    if (ctx.opset < 13) throw ctx.unsupported("Concat with symbolic sizes needs opset 13 or later");
    const pieces = ctx.node.inputs.map((x) =>
      ctx.op("Gather", [ctx.shapeOf(x), ctx.b.ints([axis])], { axis: 0 }),
    );
    const split = ctx.op("Concat", pieces, { axis: 0 });
    parts = ctx.b.node(
      "Split",
      [ctx.dy0(), split],
      { axis },
      { outputs: sizes.length, name: `${ctx.node.name}/grad/Split` },
    );
  }
  return parts.map((p, i) => (ctx.wants(i) ? p : undefined));
};

const split: GradRule = (ctx) => {
  const parts = ctx.node.outputs.map((o, i) => {
    const g = ctx.dy(i);
    if (g !== undefined) return g;
    return ctx.op("ConstantOfShape", [ctx.shapeOf(o)], { value: zeroOf(ctx, o) });
  });
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 0), ctx.rank(ctx.in(0)));
  return [ctx.op("Concat", parts, { axis })];
};

function zeroOf(
  ctx: RuleContext,
  like: string,
): { dtype: "float32" | "float64"; dims: number[]; data: Float32Array | Float64Array } {
  return ctx.dtype(like) === "float64"
    ? { dtype: "float64", dims: [1], data: new Float64Array(1) }
    : { dtype: "float32", dims: [1], data: new Float32Array(1) };
}

// Slice with step 1 -> Pad(dY) with the cut-away amounts; pads are constants where dims are known.
const slice: GradRule = (ctx) => {
  const x = ctx.in(0);
  const xs = ctx.info(x).shape;
  const r = xs.length;
  const ints = (i: number): number[] | undefined => ctx.constValue(ctx.in(i));
  const starts = ints(1);
  const ends = ints(2);
  const axes = ctx.node.inputs[3] ? ints(3) : starts?.map((_, i) => i);
  const steps = ctx.node.inputs[4] ? ints(4) : starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) throw ctx.unsupported("starts/ends/axes/steps must be constants");
  if (steps.some((s) => s !== 1)) throw ctx.unsupported("only step 1 is supported");
  const begin: (number | string)[] = Array<number | string>(r).fill(0);
  const end: (number | string)[] = Array<number | string>(r).fill(0);
  // An end before its start is an empty slice: dY has no element on that axis, and the pads must
  // still add up to the axis's size (the end is taken as the start).
  axes.forEach((a, i) => {
    const ax = normAxis(a, r);
    const d = xs[ax] as Dim;
    const s = starts[i] as number;
    const e = ends[i] as number;
    if (typeof d === "number") {
      const from = clamp(s < 0 ? s + d : s, d);
      begin[ax] = from;
      end[ax] = d - Math.max(clamp(e < 0 ? e + d : e, d), from);
      return;
    }
    const bounds = symbolicBounds(ctx, x, ax, s, e);
    begin[ax] = bounds.begin;
    end[ax] = bounds.end;
  });
  const padded = padBack(ctx, begin, end);
  const d = axes.length === 1 ? xs[normAxis(axes[0] as number, r)] : undefined;
  if (typeof d === "number") {
    const ax = normAxis(axes[0] as number, r);
    const [b0, e0] = [begin[ax] as number, d - (end[ax] as number)];
    ctx.noteSlicePiece(padded, { dy: ctx.dy0(), axis: ax, start: b0, end: e0, dim: d });
  }
  return [padded];
};

/**
 * Pads of a step-1 Slice [s, e) of a symbolic axis, computed at run time as ONNX slices: a negative
 * bound has the size added, each bound is clamped to [0, size], and an end before the start leaves
 * an empty slice (the end taken as the start), so the pads always add up to the size. Min and Max
 * take int64 from opset 12; before, the bounds are clamped in float64 (exact for any axis size below
 * 2^53) and cast back.
 */
function symbolicBounds(
  ctx: RuleContext,
  x: string,
  ax: number,
  s: number,
  e: number,
): { begin: number | string; end: number | string } {
  const wide = ctx.opset < 12;
  const num = (v: number): string =>
    wide ? ctx.b.constant({ dtype: "float64", dims: [1], data: Float64Array.of(v) }, "f64") : ctx.b.ints([v]);
  const asInt = (v: string): string => (wide ? ctx.op("Cast", [v], { to: INT64 }) : v);
  const dim = ctx.op("Gather", [ctx.shapeOf(x), ctx.b.ints([ax])], { axis: 0 });
  const size = wide ? ctx.op("Cast", [dim], { to: FLOAT64 }) : dim;
  const clamped = (v: number): string =>
    v >= 0 ? ctx.op("Min", [num(v), size]) : ctx.op("Max", [ctx.op("Add", [size, num(v)]), num(0)]);
  const from = s === 0 ? undefined : clamped(s);
  const begin = from === undefined ? 0 : asInt(from);
  // an end this large is past any axis: nothing is cut after the slice
  if (e >= 2 ** 31 - 1) return { begin, end: 0 };
  let to = clamped(e);
  // bounds on the same side of the axis in order stay in order once clamped; others may cross
  if (!(s < 0 === e < 0 && e >= s)) to = ctx.op("Max", [to, from ?? num(0)]);
  return { begin, end: asInt(ctx.op("Sub", [size, to])) };
}

const INT64 = 7;
const FLOAT64 = 11;

/**
 * dY zero-padded by `begin`/`end` per axis (numbers, or one-element int64 tensors known at run time).
 * Pad takes its pads as an input from opset 11; Pad-2 (opset 10, Slice-10's) only as an attribute, so
 * there run-time pads become zeros concatenated on each side of dY, one padded axis after another.
 */
function padBack(ctx: RuleContext, begin: (number | string)[], end: (number | string)[]): string {
  const all = [...begin, ...end];
  const known = all.every((p) => typeof p === "number");
  if (ctx.opset >= 11) {
    const pads = known
      ? ctx.b.ints(all as number[])
      : ctx.op(
          "Concat",
          all.map((p) => (typeof p === "number" ? ctx.b.ints([p]) : p)),
          { axis: 0 },
        );
    return ctx.op("Pad", [ctx.dy0(), pads]);
  }
  if (known) return ctx.op("Pad", [ctx.dy0()], { pads: all as number[], mode: "constant" });
  let g = ctx.dy0();
  begin.forEach((b, ax) => {
    const e = end[ax] as number | string;
    if (b === 0 && e === 0) return;
    const zeros = (n: number | string): string => {
      const shape = ctx.op("Shape", [g]);
      const dims = ctx.op(
        "Concat",
        [
          ctx.op("Slice", [shape, ctx.b.ints([0]), ctx.b.ints([ax])]),
          typeof n === "number" ? ctx.b.ints([n]) : n,
          ctx.op("Slice", [shape, ctx.b.ints([ax + 1]), ctx.b.ints([2 ** 31 - 1])]),
        ],
        { axis: 0 },
      );
      return ctx.op("ConstantOfShape", [dims], { value: zeroOf(ctx, ctx.in(0)) });
    };
    g = ctx.op("Concat", [zeros(b), g, zeros(e)], { axis: ax });
  });
  return g;
}

function clamp(v: number, d: number): number {
  return Math.min(Math.max(v, 0), d);
}

const expand: GradRule = (ctx) => [reduceTo(ctx, ctx.dy0(), outShape(ctx), ctx.in(0))];

function reduceAxes(ctx: RuleContext, inputSince: number): number[] {
  const r = ctx.rank(ctx.in(0));
  const raw =
    ctx.opset >= inputSince
      ? ctx.node.inputs[1]
        ? ctx.constValue(ctx.in(1))
        : []
      : (attrInts(ctx.node.attrs, "axes") ?? []);
  if (raw === undefined) throw ctx.unsupported("axes must be a constant");
  if (raw.length === 0 && attrInt(ctx.node.attrs, "noop_with_empty_axes", 0) === 1) return [];
  return raw.length === 0 ? range(r) : raw.map((a) => normAxis(a, r));
}

function reduceRule(inputSince: number, mean: boolean): GradRule {
  return (ctx) => {
    const x = ctx.in(0);
    const axes = reduceAxes(ctx, inputSince);
    let g = ctx.dy0();
    if (axes.length > 0 && attrInt(ctx.node.attrs, "keepdims", 1) === 0) g = ctx.b.unsqueeze(g, axes);
    g = ctx.op("Expand", [g, shapeTensor(ctx, x)]);
    if (!mean || axes.length === 0) return [g];
    const xs = ctx.info(x).shape;
    const dims = axes.map((a) => xs[a] as Dim);
    if (dims.every((d) => typeof d === "number")) {
      return [
        ctx.op("Div", [
          g,
          ctx.scalar(
            (dims as number[]).reduce((p, q) => p * q, 1),
            x,
          ),
        ]),
      ];
    }
    // the product of the reduced dims (not Size(x) / Size(y), an integer division by zero when a kept
    // dim, e.g. the batch, is 0)
    const count = dims
      .map((d, i) =>
        typeof d === "number"
          ? ctx.b.ints([d])
          : ctx.op("Gather", [ctx.shapeOf(x), ctx.b.ints([axes[i] as number])], { axis: 0 }),
      )
      .reduce((p, q) => ctx.op("Mul", [p, q]));
    return [ctx.op("Div", [g, ctx.castLike(count, x)])];
  };
}

export const SHAPE_OP_RULES: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Expand: expand,
  ReduceSum: reduceRule(13, false),
  ReduceMean: reduceRule(18, true),
};
