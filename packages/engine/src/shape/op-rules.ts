// Per-op shape and dtype rules for the ops of ViT/BERT exports (static ranks, symbolic dims allowed).
import { attrInt, attrInts } from "../builder/attrs.js";
import { dtypeFromCode } from "../ir/dtype.js";
import type { Dim, DType } from "../ir/types.js";
import { broadcastShapes, normAxis, reshapeDims } from "./dims.js";
import { constInts, type OpContext, type ValueFacts } from "./facts.js";

type Rule = (ctx: OpContext) => (ValueFacts | undefined)[];

const first = (ctx: OpContext): ValueFacts | undefined => ctx.ins[0];
const dt = (ctx: OpContext, i = 0): DType => ctx.ins[i]?.dtype ?? "float32";
const sh = (ctx: OpContext, i = 0): readonly Dim[] | undefined => ctx.ins[i]?.shape;
const facts = (dtype: DType, shape: readonly Dim[] | undefined): ValueFacts =>
  shape === undefined ? { dtype } : { dtype, shape };

const sameAsInput: Rule = (ctx) => {
  const f = first(ctx);
  return ctx.node.outputs.map(() => (f === undefined ? undefined : facts(f.dtype, f.shape)));
};

function broadcast(dtype: (ctx: OpContext) => DType, from = 0): Rule {
  return (ctx) => {
    const shapes = ctx.ins.slice(from).map((f) => f?.shape);
    if (shapes.some((s) => s === undefined)) return [{ dtype: dtype(ctx) }];
    return [facts(dtype(ctx), broadcastShapes(shapes as Dim[][]))];
  };
}

function axesOf(ctx: OpContext, inputSince: number): number[] | undefined {
  if (ctx.opset >= inputSince) return ctx.node.inputs[1] ? constInts(ctx, 1) : [];
  return attrInts(ctx.node.attrs, "axes") ?? [];
}

function reduceRule(inputSince: number): Rule {
  return (ctx) => {
    const s = sh(ctx);
    const axes = axesOf(ctx, inputSince);
    const keep = attrInt(ctx.node.attrs, "keepdims", 1) === 1;
    if (s === undefined || axes === undefined) return [{ dtype: dt(ctx) }];
    const noop = attrInt(ctx.node.attrs, "noop_with_empty_axes", 0) === 1;
    if (axes.length === 0 && noop) return [facts(dt(ctx), s)];
    const all = axes.length === 0 ? s.map((_, i) => i) : axes.map((a) => normAxis(a, s.length));
    const out = keep ? s.map((d, i) => (all.includes(i) ? 1 : d)) : s.filter((_, i) => !all.includes(i));
    return [facts(dt(ctx), out)];
  };
}

const matmul: Rule = (ctx) => {
  const a = sh(ctx, 0);
  const b = sh(ctx, 1);
  if (a === undefined || b === undefined) return [{ dtype: dt(ctx) }];
  const a2 = a.length === 1 ? [1, a[0] as Dim] : a;
  const b2 = b.length === 1 ? [b[0] as Dim, 1] : b;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [
    ...batch,
    ...(a.length === 1 ? [] : [a2[a2.length - 2] as Dim]),
    ...(b.length === 1 ? [] : [b2[b2.length - 1] as Dim]),
  ];
  return [facts(dt(ctx), out)];
};

const gemm: Rule = (ctx) => {
  const a = sh(ctx, 0);
  const b = sh(ctx, 1);
  if (a === undefined || b === undefined) return [{ dtype: dt(ctx) }];
  const m = attrInt(ctx.node.attrs, "transA", 0) ? a[1] : a[0];
  const n = attrInt(ctx.node.attrs, "transB", 0) ? b[0] : b[1];
  return [facts(dt(ctx), [m ?? null, n ?? null])];
};

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
    if (step === 1 && start >= 0 && end >= 0 && end < 2 ** 31) return Math.max(0, end - start);
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

const layerNorm: Rule = (ctx) => {
  const s = sh(ctx);
  const axis = attrInt(ctx.node.attrs, "axis", -1);
  const stat = s === undefined ? undefined : s.map((d, i) => (i >= normAxis(axis, s.length) ? 1 : d));
  return [facts(dt(ctx), s), facts("float32", stat), facts("float32", stat)];
};

const shape: Rule = (ctx) => {
  const s = sh(ctx);
  if (s === undefined) return [{ dtype: "int64", shape: [null] }];
  const start = normAxis(attrInt(ctx.node.attrs, "start", 0), s.length);
  const endAttr = ctx.node.attrs["end"];
  const end = endAttr === undefined ? s.length : normAxis(attrInt(ctx.node.attrs, "end", s.length), s.length);
  const lo = Math.max(0, Math.min(start, s.length));
  const hi = Math.max(lo, Math.min(end, s.length));
  return [{ dtype: "int64", shape: [hi - lo] }];
};

const constantOfShape: Rule = (ctx) => {
  const v = ctx.node.attrs["value"];
  const dtype = v?.kind === "tensor" ? v.value.dtype : "float32";
  const target = ctx.ins[0]?.value;
  return [target === undefined ? { dtype } : facts(dtype, target)];
};

const conv: Rule = (ctx) => {
  const x = sh(ctx, 0);
  const w = sh(ctx, 1);
  if (x === undefined || w === undefined) return [{ dtype: dt(ctx) }];
  const k = w.slice(2);
  const strides = attrInts(ctx.node.attrs, "strides") ?? k.map(() => 1);
  const pads = attrInts(ctx.node.attrs, "pads") ?? [...k, ...k].map(() => 0);
  const dil = attrInts(ctx.node.attrs, "dilations") ?? k.map(() => 1);
  const spatial = x.slice(2).map((d, i) => {
    const kk = k[i];
    if (typeof d !== "number" || typeof kk !== "number") return null;
    const eff = (dil[i] as number) * (kk - 1) + 1;
    return (
      Math.floor((d + (pads[i] as number) + (pads[i + k.length] as number) - eff) / (strides[i] as number)) +
      1
    );
  });
  return [facts(dt(ctx), [x[0] as Dim, w[0] as Dim, ...spatial])];
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

const cast: Rule = (ctx) => [facts(dtypeFromCode(attrInt(ctx.node.attrs, "to", 1)), sh(ctx))];
const boolBroadcast = broadcast(() => "bool");

export const SHAPE_RULES: Record<string, Rule> = {
  Identity: sameAsInput,
  Neg: sameAsInput,
  Erf: sameAsInput,
  Tanh: sameAsInput,
  Sqrt: sameAsInput,
  Exp: sameAsInput,
  Log: sameAsInput,
  Relu: sameAsInput,
  Sigmoid: sameAsInput,
  Gelu: sameAsInput,
  Abs: sameAsInput,
  Reciprocal: sameAsInput,
  Softmax: sameAsInput,
  LogSoftmax: sameAsInput,
  Floor: sameAsInput,
  Ceil: sameAsInput,
  Sin: sameAsInput,
  Cos: sameAsInput,
  Clip: sameAsInput,
  LeakyRelu: sameAsInput,
  Trilu: sameAsInput,
  CumSum: sameAsInput,
  Round: sameAsInput,
  Sign: sameAsInput,
  Softplus: sameAsInput,
  HardSigmoid: sameAsInput,
  Elu: sameAsInput,
  ScatterND: sameAsInput,
  ScatterElements: sameAsInput,
  Not: sameAsInput,
  Dropout: (ctx) => [facts(dt(ctx), sh(ctx)), facts("bool", sh(ctx))],
  Add: broadcast(dt),
  Sub: broadcast(dt),
  Mul: broadcast(dt),
  Div: broadcast(dt),
  Pow: broadcast(dt),
  Mod: broadcast(dt),
  Max: broadcast(dt),
  Min: broadcast(dt),
  Sum: broadcast(dt),
  Mean: broadcast(dt),
  Equal: boolBroadcast,
  Less: boolBroadcast,
  Greater: boolBroadcast,
  LessOrEqual: boolBroadcast,
  GreaterOrEqual: boolBroadcast,
  And: boolBroadcast,
  Or: boolBroadcast,
  Xor: boolBroadcast,
  Where: broadcast((ctx) => dt(ctx, 1)),
  MatMul: matmul,
  Gemm: gemm,
  Transpose: transpose,
  Reshape: reshape,
  Flatten: flatten,
  Concat: concat,
  Slice: slice,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: expand,
  LayerNormalization: layerNorm,
  ReduceSum: reduceRule(13),
  ReduceMean: reduceRule(18),
  ReduceMax: reduceRule(18),
  ReduceMin: reduceRule(18),
  ReduceProd: reduceRule(18),
  ReduceL2: reduceRule(18),
  Shape: shape,
  Size: () => [{ dtype: "int64", shape: [] }],
  ConstantOfShape: constantOfShape,
  Conv: conv,
  Split: split,
  Cast: cast,
  CastLike: (ctx) => [facts(dt(ctx, 1), sh(ctx))],
  Range: (ctx) => [{ dtype: dt(ctx), shape: [null] }],
  NonZero: (ctx) => [{ dtype: "int64", shape: [sh(ctx)?.length ?? null, null] }],
};
