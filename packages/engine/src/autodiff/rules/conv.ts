// Gradient rule of Conv (group 1, e.g. a ViT patch embedding): dX by ConvTranspose, dW by a Conv of
// X with dY as the kernel (batch and channel axes swapped, stride and dilation exchanged).
import { attrInt, attrInts, attrString } from "../../builder/attrs.js";
import { range } from "../broadcast.js";
import type { GradRule } from "../rule-context.js";

const conv: GradRule = (ctx) => {
  const [x, w, bias] = [ctx.in(0), ctx.in(1), ctx.in(2)];
  const xs = ctx.info(x).shape;
  const ws = ctx.info(w).shape;
  const n = xs.length - 2;
  if (attrInt(ctx.node.attrs, "group", 1) !== 1) throw ctx.unsupported("only group=1 is supported");
  if (attrString(ctx.node.attrs, "auto_pad", "NOTSET") !== "NOTSET")
    throw ctx.unsupported("auto_pad is not supported; use explicit pads");
  const k = ws.slice(2);
  if (!k.every((d) => typeof d === "number")) throw ctx.unsupported("kernel size must be static");
  const kernel = k as number[];
  const strides = attrInts(ctx.node.attrs, "strides") ?? kernel.map(() => 1);
  const dil = attrInts(ctx.node.attrs, "dilations") ?? kernel.map(() => 1);
  const pads = attrInts(ctx.node.attrs, "pads") ?? [...kernel, ...kernel].map(() => 0);
  const g = ctx.dy0();
  let dx: string | undefined;
  if (ctx.wants(0)) {
    const spatial = xs.slice(2);
    if (!spatial.every((d) => typeof d === "number"))
      throw ctx.unsupported("input spatial size must be static for dX");
    const outPad = (spatial as number[]).map((d, i) => {
      const eff = (dil[i] as number) * ((kernel[i] as number) - 1) + 1;
      return (d + (pads[i] as number) + (pads[i + n] as number) - eff) % (strides[i] as number);
    });
    dx = ctx.op("ConvTranspose", [g, w], {
      strides,
      dilations: dil,
      pads,
      output_padding: outPad,
      kernel_shape: kernel,
    });
  }
  let dw: string | undefined;
  if (ctx.wants(1)) {
    const swap = [1, 0, ...range(n).map((i) => i + 2)];
    const xt = ctx.op("Transpose", [x], { perm: swap });
    const gt = ctx.op("Transpose", [g], { perm: swap });
    const full = ctx.op("Conv", [xt, gt], { strides: dil, dilations: strides, pads });
    // The correlation can run past the kernel when (H + pads - eff) is not a multiple of the stride.
    const cut = ctx.op("Slice", [
      full,
      ctx.b.ints(kernel.map(() => 0)),
      ctx.b.ints(kernel),
      ctx.b.ints(range(n).map((i) => i + 2)),
    ]);
    dw = ctx.op("Transpose", [cut], { perm: swap });
  }
  const db =
    ctx.wants(2) && bias !== "" ? ctx.b.reduceSum(g, [0, ...range(n).map((i) => i + 2)], false) : undefined;
  return [dx, dw, db];
};

export const CONV_RULES: Record<string, GradRule> = { Conv: conv };
