// Reduces a gradient of a broadcast result back to an operand's shape (numpy broadcasting in reverse).
// Static ranks decide the leading axes; size-1 axes are summed statically when known and at runtime
// (NonZero(Shape(x) == 1)) when a symbolic dim might be 1.
import { i64s } from "../ir/tensor.js";
import type { Dim } from "../ir/types.js";
import type { RuleContext } from "./rule-context.js";

/** Sum of `g` (shaped like `gShape`) over the axes along which operand `x` was broadcast. */
export function reduceTo(ctx: RuleContext, g: string, gShape: readonly Dim[], x: string): string {
  const xs = ctx.info(x).shape;
  const lead = gShape.length - xs.length;
  const b = ctx.b;
  let out = g;
  if (lead > 0) out = b.reduceSum(out, range(lead), false, { name: `${ctx.node.name}/grad/unbroadcast` });
  const axes: number[] = [];
  let dynamic = false;
  xs.forEach((d, j) => {
    const gd = gShape[j + lead] as Dim;
    if (d === 1 && gd !== 1) axes.push(j);
    else if (typeof d !== "number" && d !== gd) dynamic = true;
  });
  if (dynamic) return dynamicReduce(ctx, out, x);
  if (axes.length > 0) out = b.reduceSum(out, axes, true, { name: `${ctx.node.name}/grad/unbroadcast` });
  return out;
}

function dynamicReduce(ctx: RuleContext, g: string, x: string): string {
  if (ctx.opset < 13) throw ctx.unsupported("broadcasting over symbolic dims needs opset 13 or later");
  const b = ctx.b;
  const one = b.constant(i64s([1]), "one");
  const isOne = b.op("Equal", [ctx.shapeOf(x), one]);
  const axes = b.op("Reshape", [b.op("NonZero", [isOne]), b.ints([-1])]);
  return b.op(
    "ReduceSum",
    [g, axes],
    { keepdims: 1, noop_with_empty_axes: 1 },
    { name: `${ctx.node.name}/grad/unbroadcast` },
  );
}

/** [0, 1, ..., n-1]. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The shape of output i of the rule's node, as inferred. */
export function outShape(ctx: RuleContext, i = 0): readonly Dim[] {
  return ctx.info(ctx.out(i)).shape;
}
