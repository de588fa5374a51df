// Gradient rule of LayerNormalization over axes [axis, rank): statistics are recomputed from X (the
// forward's optional Mean/InvStdDev outputs are not used, so M stays as exported).
import { attrFloat, attrInt, float } from "../../builder/attrs.js";
import { f32 } from "../../ir/tensor.js";
import { normAxis } from "../../shape/dims.js";
import { outShape, range, reduceTo } from "../broadcast.js";
import type { GradRule, RuleContext } from "../rule-context.js";

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
  const [xh, inv] = normalized(ctx, x, axes, eps);
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

/**
 * x-hat and 1/sqrt(var + eps) of x over `axes`. float32 with a static normalized shape: one fused
 * LayerNormalization with unit scale and zero bias (its InvStdDev output, which ORT computes in
 * float32 only); otherwise from ReduceMean/Sub/Mul/Sqrt.
 */
function normalized(ctx: RuleContext, x: string, axes: number[], eps: number): [string, string] {
  const dims = axes.map((a) => ctx.info(x).shape[a]);
  if (ctx.dtype(x) === "float32" && dims.every((d) => typeof d === "number")) {
    const n = (dims as number[]).reduce((p, q) => p * q, 1);
    const ones = ctx.b.constant(f32(dims as number[], new Array<number>(n).fill(1)), "ln_ones");
    const zeros = ctx.b.constant(f32(dims as number[], new Array<number>(n).fill(0)), "ln_zeros");
    const [xh, , inv] = ctx.b.node(
      "LayerNormalization",
      [x, ones, zeros],
      { axis: axes[0] as number, epsilon: float(eps), stash_type: 1 },
      { outputs: 3, name: `${ctx.node.name}/grad/LayerNormalization` },
    );
    return [xh as string, inv as string];
  }
  const b = ctx.b;
  const mean = b.reduceMean(x, axes);
  const xc = ctx.op("Sub", [x, mean]);
  const variance = b.reduceMean(ctx.op("Mul", [xc, xc]), axes);
  const inv = ctx.op("Reciprocal", [ctx.op("Sqrt", [ctx.op("Add", [variance, ctx.scalar(eps, x)])])]);
  return [ctx.op("Mul", [xc, inv]), inv];
}

export const NORM_RULES: Record<string, GradRule> = { LayerNormalization: layerNorm };
