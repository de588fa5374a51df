// Per-op shape and dtype rules for the ops of ViT/BERT exports (static ranks, symbolic dims allowed).
import { attrInt, attrInts } from "../builder/attrs.js";
import { dtypeFromCode } from "../ir/dtype.js";
import type { Dim, DType } from "../ir/types.js";
import { broadcastShapes, normAxis } from "./dims.js";
import { constInts, type OpContext } from "./facts.js";
import { LAYOUT_RULES } from "./layout-rules.js";
import { dt, facts, first, sh, type Rule } from "./rule-kit.js";

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

const cast: Rule = (ctx) => [facts(dtypeFromCode(attrInt(ctx.node.attrs, "to", 1)), sh(ctx))];
const boolBroadcast = broadcast(() => "bool");

export const SHAPE_RULES: Record<string, Rule> = {
  ...LAYOUT_RULES,
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
  Cast: cast,
  CastLike: (ctx) => [facts(dt(ctx, 1), sh(ctx))],
  Range: (ctx) => [{ dtype: dt(ctx), shape: [null] }],
  NonZero: (ctx) => [{ dtype: "int64", shape: [sh(ctx)?.length ?? null, null] }],
};
