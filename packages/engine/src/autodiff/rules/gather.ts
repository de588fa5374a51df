// Gradient rule of Gather (embedding lookups, index select): scatter-add dY into zeros shaped like the
// data, with the gathered axis moved first so one ScatterND(reduction=add) covers every axis.
import { attrInt } from "../../builder/attrs.js";
import { i64 } from "../../ir/tensor.js";
import { normAxis } from "../../shape/dims.js";
import { range } from "../broadcast.js";
import type { GradRule } from "../rule-context.js";

const gather: GradRule = (ctx) => {
  if (!ctx.wants(0)) return [undefined, undefined];
  if (ctx.opset < 16) throw ctx.unsupported("needs opset 16 or later (ScatterND with reduction=add)");
  const [data, idx] = [ctx.in(0), ctx.in(1)];
  const r = ctx.rank(data);
  const q = ctx.rank(idx);
  const axis = normAxis(attrInt(ctx.node.attrs, "axis", 0), r);
  const b = ctx.b;
  let g = ctx.dy0();
  // dY has shape data[:axis] + idx.shape + data[axis+1:]; bring the idx dims to the front.
  const moved = [
    ...range(q).map((i) => axis + i),
    ...range(axis),
    ...range(r - axis - 1).map((i) => axis + q + i),
  ];
  if (axis > 0) g = ctx.op("Transpose", [g], { perm: moved });
  const dataPerm = [axis, ...range(r).filter((i) => i !== axis)];
  const shape = ctx.shapeOf(data);
  const permShape = axis > 0 ? ctx.op("Gather", [shape, b.ints(dataPerm)], { axis: 0 }) : shape;
  const zeros = ctx.op("ConstantOfShape", [permShape], {
    value:
      ctx.dtype(data) === "float64"
        ? { dtype: "float64", dims: [1], data: new Float64Array(1) }
        : { dtype: "float32", dims: [1], data: new Float32Array(1) },
  });
  // Negative indices count from the end of the axis.
  // Scalars (not [1] tensors) keep a rank-0 index rank-0 through the broadcasting ops.
  const dim = ctx.op("Gather", [shape, b.constant(i64([], [axis]), "axis")], { axis: 0 });
  const ids = ctx.dtype(idx) === "int64" ? idx : ctx.op("Cast", [idx], { to: 7 });
  const zero = b.constant(i64([], [0]), "zero");
  const fixed = ctx.op("Where", [ctx.op("Less", [ids, zero]), ctx.op("Add", [ids, dim]), ids]);
  const scattered = ctx.op("ScatterND", [zeros, b.unsqueeze(fixed, [q]), g], { reduction: "add" });
  return [axis > 0 ? ctx.op("Transpose", [scattered], { perm: invert(dataPerm) }) : scattered, undefined];
};

function invert(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const GATHER_RULES: Record<string, GradRule> = { Gather: gather };
