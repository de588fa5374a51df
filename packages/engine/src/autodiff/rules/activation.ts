// Gradient rules of pointwise activations and softmax, written with ordinary ONNX inference ops.
import { attrInt, attrString } from "../../builder/attrs.js";
import { normAxis } from "../../shape/dims.js";
import { range } from "../broadcast.js";
import type { GradRule, RuleContext } from "../rule-context.js";

function mulG(ctx: RuleContext, local: string): string[] {
  return [ctx.op("Mul", [ctx.dy0(), local])];
}

// d erf(x) = 2/sqrt(pi) * exp(-x^2)
const erf: GradRule = (ctx) => {
  const x = ctx.in(0);
  const e = ctx.op("Exp", [ctx.op("Neg", [ctx.op("Mul", [x, x])])]);
  return mulG(ctx, ctx.op("Mul", [e, ctx.scalar(2 / Math.sqrt(Math.PI), x)]));
};

// exact: Phi(x) + x*phi(x); tanh approximation: derivative of 0.5x(1 + tanh(k(x + c x^3))).
const gelu: GradRule = (ctx) => {
  const x = ctx.in(0);
  const s = (v: number): string => ctx.scalar(v, x);
  if (attrString(ctx.node.attrs, "approximate", "none") === "tanh") {
    const k = Math.sqrt(2 / Math.PI);
    const c = 0.044715;
    const x2 = ctx.op("Mul", [x, x]);
    const u = ctx.op("Mul", [s(k), ctx.op("Add", [x, ctx.op("Mul", [s(c), ctx.op("Mul", [x2, x])])])]);
    const t = ctx.op("Tanh", [u]);
    const left = ctx.op("Mul", [s(0.5), ctx.op("Add", [s(1), t])]);
    const sech2 = ctx.op("Sub", [s(1), ctx.op("Mul", [t, t])]);
    const du = ctx.op("Mul", [s(k), ctx.op("Add", [s(1), ctx.op("Mul", [s(3 * c), x2])])]);
    const right = ctx.op("Mul", [ctx.op("Mul", [s(0.5), x]), ctx.op("Mul", [sech2, du])]);
    return mulG(ctx, ctx.op("Add", [left, right]));
  }
  return [exactGeluGrad(ctx, x, ctx.dy0())];
};

/**
 * g * gelu'(x) for the exact GELU, gelu'(x) = Phi(x) + x phi(x), in few full-size passes of ORT's
 * elementwise kernels: 2 gelu'(x) = 1 + erf(u) + sqrt(2/pi) x / exp(u^2) with u = x / sqrt 2 (a Div
 * instead of Neg + Mul; exp(u^2) = inf far out gives the right limit 0). The 0.5 goes on g, where ORT
 * folds it into the MatMul that produced g (MatMulScaleFusion).
 */
export function exactGeluGrad(ctx: RuleContext, x: string, g: string): string {
  const s = (v: number): string => ctx.scalar(v, x);
  const u = ctx.op("Mul", [x, s(Math.SQRT1_2)]);
  const tail = ctx.op("Div", [
    ctx.op("Mul", [x, s(Math.sqrt(2 / Math.PI))]),
    ctx.op("Exp", [ctx.op("Mul", [u, u])]),
  ]);
  const twice = ctx.op("Add", [ctx.op("Add", [ctx.op("Erf", [u]), s(1)]), tail]);
  return ctx.op("Mul", [ctx.op("Mul", [g, s(0.5)]), twice]);
}

const tanh: GradRule = (ctx) => {
  const y = ctx.out();
  return mulG(ctx, ctx.op("Sub", [ctx.scalar(1, y), ctx.op("Mul", [y, y])]));
};

const sqrt: GradRule = (ctx) => [
  ctx.op("Div", [ctx.op("Mul", [ctx.dy0(), ctx.scalar(0.5, ctx.out())]), ctx.out()]),
];

const exp: GradRule = (ctx) => mulG(ctx, ctx.out());

const log: GradRule = (ctx) => [ctx.op("Div", [ctx.dy0(), ctx.in(0)])];

const relu: GradRule = (ctx) => {
  const x = ctx.in(0);
  const zero = ctx.scalar(0, x);
  return [ctx.op("Where", [ctx.op("Greater", [x, zero]), ctx.dy0(), zero])];
};

const sigmoid: GradRule = (ctx) => {
  const y = ctx.out();
  return mulG(ctx, ctx.op("Mul", [y, ctx.op("Sub", [ctx.scalar(1, y), y])]));
};

// Opset >= 13 normalises along one axis; earlier opsets along all axes from `axis` on (coerced to 2-D).
function softmaxAxes(ctx: RuleContext): number[] {
  const rank = ctx.rank(ctx.in(0));
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", ctx.opset >= 13 ? -1 : 1), rank);
  return ctx.opset >= 13 ? [axis] : range(rank).slice(axis);
}

// dx = y * (g - sum(g * y, axis))
const softmax: GradRule = (ctx) => {
  const [g, y] = [ctx.dy0(), ctx.out()];
  const s = ctx.b.reduceSum(ctx.op("Mul", [g, y]), softmaxAxes(ctx), true);
  return [ctx.op("Mul", [y, ctx.op("Sub", [g, s])])];
};

// dx = g - exp(y) * sum(g, axis)
const logSoftmax: GradRule = (ctx) => {
  const [g, y] = [ctx.dy0(), ctx.out()];
  const s = ctx.b.reduceSum(g, softmaxAxes(ctx), true);
  return [ctx.op("Sub", [g, ctx.op("Mul", [ctx.op("Exp", [y]), s])])];
};

export const ACTIVATION_RULES: Record<string, GradRule> = {
  Erf: erf,
  Gelu: gelu,
  Tanh: tanh,
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Relu: relu,
  Sigmoid: sigmoid,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};
