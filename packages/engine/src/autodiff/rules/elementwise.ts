// Gradient rules of broadcasting arithmetic and pass-through ops (Add, Sub, Mul, Div, Pow, Where, ...).
import { attrInt } from "../../builder/attrs.js";
import { dtypeFromCode, isFloat } from "../../ir/dtype.js";
import { reduceTo, outShape } from "../broadcast.js";
import type { GradRule, RuleContext } from "../rule-context.js";

function unb(ctx: RuleContext, g: string, i: number): string {
  return reduceTo(ctx, g, outShape(ctx), ctx.in(i));
}

const add: GradRule = (ctx) => {
  const g = ctx.dy0();
  return [ctx.wants(0) ? unb(ctx, g, 0) : undefined, ctx.wants(1) ? unb(ctx, g, 1) : undefined];
};

const sub: GradRule = (ctx) => {
  const g = ctx.dy0();
  return [
    ctx.wants(0) ? unb(ctx, g, 0) : undefined,
    ctx.wants(1) ? unb(ctx, ctx.op("Neg", [g]), 1) : undefined,
  ];
};

const mul: GradRule = (ctx) => {
  const g = ctx.dy0();
  return [
    ctx.wants(0) ? unb(ctx, ctx.op("Mul", [g, ctx.in(1)]), 0) : undefined,
    ctx.wants(1) ? unb(ctx, ctx.op("Mul", [g, ctx.in(0)]), 1) : undefined,
  ];
};

// y = a / b: da = g / b, db = -da * y (reuses g / b and avoids b^2).
const div: GradRule = (ctx) => {
  const gb = ctx.op("Div", [ctx.dy0(), ctx.in(1)]);
  return [
    ctx.wants(0) ? unb(ctx, gb, 0) : undefined,
    ctx.wants(1) ? unb(ctx, ctx.op("Neg", [ctx.op("Mul", [gb, ctx.out()])]), 1) : undefined,
  ];
};

// y = x^p: dx = g * p * x^(p-1); dp = g * y * log(x). As torch's pow_backward_self and
// pow_backward_exponent (FunctionsManual.cpp), dx is 0 where p = 0 and dp is 0 where x = 0 and
// p >= 0: the plain formulas give 0 * inf and 0 * -inf there, NaN (ADR 0006 amendment 3).
const pow: GradRule = (ctx) => {
  const g = ctx.dy0();
  const [x, p] = [ctx.in(0), ctx.in(1)];
  let dx: string | undefined;
  if (ctx.wants(0)) {
    let pc = p;
    if (ctx.dtype(p) !== ctx.dtype(x)) pc = ctx.castLike(p, x);
    const pm1 = ctx.op("Sub", [pc, ctx.scalar(1, x)]);
    let local = ctx.op("Mul", [pc, ctx.op("Pow", [x, pm1])]);
    // an exponent known to hold no 0 (x^2 of a decomposed LayerNorm) needs no guard
    if (!ctx.isNonZeroConstant(p)) {
      const zero = ctx.scalar(0, x);
      local = ctx.op("Where", [ctx.op("Equal", [pc, zero]), zero, local]);
    }
    dx = unb(ctx, ctx.op("Mul", [g, local]), 0);
  }
  let dp: string | undefined;
  if (ctx.wants(1)) {
    const zero = ctx.scalar(0, x);
    const zeroBase = ctx.op("Equal", [x, zero]);
    const nonNegative = ctx.op("Not", [ctx.op("Less", [p, ctx.scalar(0, p)])]);
    const ylogx = ctx.op("Mul", [ctx.out(), ctx.op("Log", [x])]);
    const local = ctx.op("Where", [ctx.op("And", [zeroBase, nonNegative]), ctx.scalar(0, ctx.out()), ylogx]);
    dp = unb(ctx, ctx.op("Mul", [g, local]), 1);
  }
  return [dx, dp];
};

const where: GradRule = (ctx) => {
  const g = ctx.dy0();
  const zero = ctx.scalar(0, ctx.out());
  const c = ctx.in(0);
  return [
    undefined,
    ctx.wants(1) ? unb(ctx, ctx.op("Where", [c, g, zero]), 1) : undefined,
    ctx.wants(2) ? unb(ctx, ctx.op("Where", [c, zero, g]), 2) : undefined,
  ];
};

const sum: GradRule = (ctx) =>
  ctx.node.inputs.map((_, i) => (ctx.wants(i) ? unb(ctx, ctx.dy0(), i) : undefined));

const identity: GradRule = (ctx) => [ctx.dy0()];

const neg: GradRule = (ctx) => [ctx.op("Neg", [ctx.dy0()])];

const cast: GradRule = (ctx) => {
  const from = ctx.dtype(ctx.in(0));
  if (!isFloat(from)) return [undefined];
  const to = dtypeFromCode(attrInt(ctx.node.attrs, "to", 1));
  return [from === to ? ctx.dy0() : ctx.castLike(ctx.dy0(), ctx.in(0))];
};

// Dropout in inference (no training_mode input, or one that is false at run time) is the identity.
const dropout: GradRule = (ctx) => {
  if (ctx.dy(1) !== undefined) throw ctx.unsupported("the mask output has no gradient");
  return [ctx.dy0()];
};

export const ELEMENTWISE_RULES: Record<string, GradRule> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Where: where,
  Sum: sum,
  Identity: identity,
  Neg: neg,
  Cast: cast,
  Dropout: dropout,
};
