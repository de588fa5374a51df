// Gradient rule of LayerNormalization over axes [axis, rank): statistics are recomputed from X so the
// rule needs no training-only outputs (the optional Mean/InvStdDev outputs are float32-only in ORT).
import { attrFloat, attrInt } from "../../builder/attrs.js";
import { normAxis } from "../../shape/dims.js";
import { outShape, range, reduceTo } from "../broadcast.js";
import type { GradRule } from "../rule-context.js";

// xh = (x - mean) * inv;  g = dY * scale;  dX = inv * (g - mean(g) - xh * mean(g * xh))
const layerNorm: GradRule = (ctx) => {
  if (ctx.dy(1) !== undefined || ctx.dy(2) !== undefined)
    throw ctx.unsupported("Mean/InvStdDev outputs have no gradient");
  const [x, scale, bias] = [ctx.in(0), ctx.in(1), ctx.in(2)];
  const rank = ctx.rank(x);
  const axes = range(rank).slice(normAxis(attrInt(ctx.node.attrs, "axis", -1), rank));
  const eps = attrFloat(ctx.node.attrs, "epsilon", 1e-5);
  const b = ctx.b;
  const g = ctx.dy0();
  const mean = b.reduceMean(x, axes);
  const xc = ctx.op("Sub", [x, mean]);
  const variance = b.reduceMean(ctx.op("Mul", [xc, xc]), axes);
  const inv = ctx.op("Reciprocal", [ctx.op("Sqrt", [ctx.op("Add", [variance, ctx.scalar(eps, x)])])]);
  const xh = ctx.op("Mul", [xc, inv]);
  let dx: string | undefined;
  if (ctx.wants(0)) {
    const gs = ctx.op("Mul", [g, scale]);
    const m1 = b.reduceMean(gs, axes);
    const m2 = b.reduceMean(ctx.op("Mul", [gs, xh]), axes);
    dx = ctx.op("Mul", [inv, ctx.op("Sub", [ctx.op("Sub", [gs, m1]), ctx.op("Mul", [xh, m2])])]);
  }
  const ys = outShape(ctx);
  const dscale = ctx.wants(1) ? reduceTo(ctx, ctx.op("Mul", [g, xh]), ys, scale) : undefined;
  const dbias = ctx.wants(2) && bias !== "" ? reduceTo(ctx, g, ys, bias) : undefined;
  return [dx, dscale, dbias];
};

export const NORM_RULES: Record<string, GradRule> = { LayerNormalization: layerNorm };
