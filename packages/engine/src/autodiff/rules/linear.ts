// Gradient rules of MatMul and Gemm (batched, broadcast batch dims, 2-D weights folded into one GEMM).
import { attrFloat, attrInt, float } from "../../builder/attrs.js";
import type { Dim } from "../../ir/types.js";
import { range, reduceTo, outShape } from "../broadcast.js";
import type { GradRule, RuleContext } from "../rule-context.js";

/** Swaps the last two axes of a tensor of rank r. */
function swapLast(ctx: RuleContext, x: string, r: number): string {
  const perm = [...range(r - 2), r - 1, r - 2];
  return ctx.op("Transpose", [x], { perm });
}

// Y[..., M, N] = A[..., M, K] @ B[..., K, N]
const matmul: GradRule = (ctx) => {
  const [a, bn] = [ctx.in(0), ctx.in(1)];
  const [ra, rb] = [ctx.rank(a), ctx.rank(bn)];
  if (ra < 2 || rb < 2) throw ctx.unsupported("1-D MatMul operands are not supported");
  const g = ctx.dy0();
  const ys = outShape(ctx);
  let da: string | undefined;
  let db: string | undefined;
  if (ctx.wants(0)) {
    const bt = rb === 2 ? ctx.op("Transpose", [bn], { perm: [1, 0] }) : swapLast(ctx, bn, rb);
    const full = ctx.op("MatMul", [g, bt]);
    da = reduceTo(
      ctx,
      full,
      [...ys.slice(0, -2), ys[ys.length - 2] as Dim, ctx.info(a).shape[ra - 1] as Dim],
      a,
    );
  }
  if (ctx.wants(1)) db = rb === 2 && ra > 2 ? weightGrad2d(ctx, a, g) : batchedWeightGrad(ctx, a, g, ys);
  return [da, db];
};

// dB[K, N] = reshape(A, [-1, K])^T @ reshape(dY, [-1, N]): one GEMM instead of a batched product + sum.
function weightGrad2d(ctx: RuleContext, a: string, g: string): string {
  const bs = ctx.info(ctx.in(1)).shape;
  const [k, n] = [bs[0], bs[1]];
  const ks = typeof k === "number" ? ctx.b.ints([-1, k]) : lastDimShape(ctx, ctx.in(0));
  const ns = typeof n === "number" ? ctx.b.ints([-1, n]) : lastDimShape(ctx, ctx.out());
  const a2 = ctx.op("Reshape", [a, ks]);
  const g2 = ctx.op("Reshape", [g, ns]);
  return ctx.op("Gemm", [a2, g2], { transA: 1 });
}

function lastDimShape(ctx: RuleContext, x: string): string {
  const last = ctx.op("Slice", [ctx.shapeOf(x), ctx.b.ints([-1]), ctx.b.ints([2 ** 31 - 1])]);
  return ctx.op("Concat", [ctx.b.ints([-1]), last], { axis: 0 });
}

function batchedWeightGrad(ctx: RuleContext, a: string, g: string, ys: readonly Dim[]): string {
  const ra = ctx.rank(a);
  const at = swapLast(ctx, a, ra);
  const full = ctx.op("MatMul", [at, g]);
  const bs = ctx.info(ctx.in(1)).shape;
  return reduceTo(
    ctx,
    full,
    [...ys.slice(0, -2), bs[bs.length - 2] as Dim, ys[ys.length - 1] as Dim],
    ctx.in(1),
  );
}

// Y = alpha * A' @ B' + beta * C, with A' = A^T when transA, B' = B^T when transB.
const gemm: GradRule = (ctx) => {
  const [a, bn, c] = [ctx.in(0), ctx.in(1), ctx.in(2)];
  const g = ctx.dy0();
  const alpha = attrFloat(ctx.node.attrs, "alpha", 1);
  const beta = attrFloat(ctx.node.attrs, "beta", 1);
  const ta = attrInt(ctx.node.attrs, "transA", 0);
  const tb = attrInt(ctx.node.attrs, "transB", 0);
  const gm = (x: string, y: string, transA: number, transB: number): string =>
    ctx.op("Gemm", [x, y], { alpha: float(alpha), transA, transB });
  const da = ctx.wants(0) ? (ta ? gm(bn, g, tb, 1) : gm(g, bn, 0, tb ? 0 : 1)) : undefined;
  const db = ctx.wants(1) ? (tb ? gm(g, a, 1, ta) : gm(a, g, ta ? 0 : 1, 0)) : undefined;
  let dc: string | undefined;
  if (ctx.wants(2) && c !== "") {
    const gc = beta === 1 ? g : ctx.op("Mul", [g, ctx.scalar(beta, c)]);
    dc = reduceTo(ctx, gc, outShape(ctx), c);
  }
  return [da, db, dc];
};

export const LINEAR_RULES: Record<string, GradRule> = { MatMul: matmul, Gemm: gemm };
