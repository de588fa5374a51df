// Builds the demo ViT as an ONNX graph in code (GraphBuilder): patchify by Reshape/Transpose, linear
// patch embedding, CLS token + learned positions, pre-LN blocks, final LayerNorm, CLS head. Node names
// follow timm's exports (`/blocks.N/attn/...`) so the splitter finds the blocks as in a real export.
import { float, type Model, type Tensor } from "@sfprompt/engine";
import { Rng } from "../datasets/rng.js";
import { xavierUniform } from "../training/init.js";
import { DemoRecipeError } from "./errors.js";
import { TorchNamedGraph } from "./torch-named-graph.js";
import type { DemoArchitecture } from "./recipe.js";

export const DEMO_INPUT = "pixel_values";
export const DEMO_LOGITS = "logits";

export interface BuiltVit {
  readonly model: Model;
  /** Names of the trainable weights (initializers), in creation order. */
  readonly parameters: readonly string[];
}

/** Checks that the architecture's sizes fit together; throws DemoRecipeError naming the field. */
export function checkArchitecture(a: DemoArchitecture): void {
  const positive = ["image", "patch", "width", "depth", "heads", "mlpRatio", "classes"] as const;
  for (const k of positive)
    if (!Number.isInteger(a[k]) || a[k] < 1)
      throw new DemoRecipeError(k, `must be a whole number ≥ 1 (got ${a[k]})`);
  const c = a.channels ?? 1;
  if (!Number.isInteger(c) || c < 1)
    throw new DemoRecipeError("channels", `must be a whole number ≥ 1 (got ${String(a.channels)})`);
  if (a.image % a.patch !== 0)
    throw new DemoRecipeError("patch", `must divide the image side ${a.image} (got ${a.patch})`);
  if (a.width % a.heads !== 0)
    throw new DemoRecipeError("heads", `must divide the width ${a.width} (got ${a.heads})`);
}

class VitGraph extends TorchNamedGraph {
  readonly params: string[] = [];

  constructor(
    private readonly rng: Rng,
    readonly d: number,
  ) {
    super();
  }

  param(name: string, t: Tensor): string {
    this.params.push(name);
    return this.b.initializer(name, t);
  }

  xavier(name: string, dims: number[], fanIn: number, fanOut: number): string {
    const p = xavierUniform(dims, this.rng, { fanIn, fanOut });
    return this.param(name, { dtype: "float32", dims, data: p.data });
  }

  filled(name: string, dims: number[], value: number): string {
    const n = dims.reduce((a, x) => a * x, 1);
    return this.param(name, { dtype: "float32", dims, data: new Float32Array(n).fill(value) });
  }

  scalar(v: number): string {
    return this.b.constant({ dtype: "float32", dims: [], data: Float32Array.of(v) }, "c");
  }

  linear(scope: string, x: string, param: string, din: number, dout: number): string {
    const y = this.op(scope, "MatMul", [x, this.xavier(`${param}.weight`, [din, dout], din, dout)]);
    return this.op(scope, "Add", [y, this.filled(`${param}.bias`, [dout], 0)]);
  }

  layerNorm(scope: string, x: string, param: string): string {
    const g = this.filled(`${param}.weight`, [this.d], 1);
    const bias = this.filled(`${param}.bias`, [this.d], 0);
    return this.op(scope, "LayerNormalization", [x, g, bias], { axis: -1, epsilon: float(1e-6) });
  }

  gelu(scope: string, x: string): string {
    const e = this.op(scope, "Erf", [this.op(scope, "Div", [x, this.scalar(Math.SQRT2)])]);
    const one = this.op(scope, "Add", [e, this.scalar(1)]);
    return this.op(scope, "Mul", [this.op(scope, "Mul", [x, one]), this.scalar(0.5)]);
  }

  attention(scope: string, x: string, param: string, heads: number): string {
    const { b, d } = this;
    const dh = d / heads;
    const split = (t: string, perm: number[]): string =>
      this.op(scope, "Transpose", [this.op(scope, "Reshape", [t, b.ints([0, 0, heads, dh])])], { perm });
    const q = split(this.linear(`${scope}/q`, x, `${param}.q`, d, d), [0, 2, 1, 3]);
    const k = split(this.linear(`${scope}/k`, x, `${param}.k`, d, d), [0, 2, 3, 1]);
    const v = split(this.linear(`${scope}/v`, x, `${param}.v`, d, d), [0, 2, 1, 3]);
    const scores = this.op(scope, "Div", [this.op(scope, "MatMul", [q, k]), this.scalar(Math.sqrt(dh))]);
    const attn = this.op(scope, "MatMul", [this.op(scope, "Softmax", [scores], { axis: -1 }), v]);
    const merged = this.op(scope, "Reshape", [
      this.op(scope, "Transpose", [attn], { perm: [0, 2, 1, 3] }),
      b.ints([0, 0, d]),
    ]);
    return this.linear(`${scope}/proj`, merged, `${param}.proj`, d, d);
  }

  block(i: number, x: string, a: DemoArchitecture): string {
    const s = `/blocks.${i}`;
    const p = `blocks.${i}`;
    const h = a.width * a.mlpRatio;
    const r1 = this.op(s, "Add", [
      x,
      this.attention(`${s}/attn`, this.layerNorm(`${s}/norm1`, x, `${p}.norm1`), `${p}.attn`, a.heads),
    ]);
    const m1 = this.linear(
      `${s}/mlp/fc1`,
      this.layerNorm(`${s}/norm2`, r1, `${p}.norm2`),
      `${p}.mlp.fc1`,
      a.width,
      h,
    );
    const m2 = this.linear(`${s}/mlp/fc2`, this.gelu(`${s}/mlp/act`, m1), `${p}.mlp.fc2`, h, a.width);
    return this.op(s, "Add", [r1, m2]);
  }
}

/** [B, C, H, W] → [B, tokens, C·patch²] by Reshape/Transpose (differentiable, unlike a strided Conv here). */
function patchify(v: VitGraph, a: DemoArchitecture): string {
  const g = a.image / a.patch;
  const c = a.channels ?? 1;
  const s = "/patch_embed";
  const six = v.op(s, "Reshape", [DEMO_INPUT, v.b.ints([0, c, g, a.patch, g, a.patch])]);
  const moved = v.op(s, "Transpose", [six], { perm: [0, 2, 4, 1, 3, 5] });
  return v.op(s, "Reshape", [moved, v.b.ints([0, g * g, c * a.patch * a.patch])]);
}

/** The demo ViT with freshly initialised weights (seeded). Input [batch, channels, image, image] in [0, 1]. */
export function buildDemoVit(a: DemoArchitecture, seed: number): BuiltVit {
  checkArchitecture(a);
  const v = new VitGraph(new Rng(seed), a.width);
  const { b } = v;
  const tokens = (a.image / a.patch) ** 2;
  const pp = (a.channels ?? 1) * a.patch * a.patch;
  b.input(DEMO_INPUT, "float32", ["batch", a.channels ?? 1, a.image, a.image]);
  const patches = patchify(v, a);
  // Centre the pixels around 0, as the usual (x - 0.5) / 0.5 transform does.
  const scaled = v.op("/patch_embed", "Sub", [
    v.op("/patch_embed", "Mul", [patches, v.scalar(2)]),
    v.scalar(1),
  ]);
  const pe = v.linear("/patch_embed/proj", scaled, "patch_embed.proj", pp, a.width);
  const cls = v.xavier("cls_token", [1, 1, a.width], a.width, a.width);
  const batch = v.op("", "Slice", [v.op("", "Shape", [DEMO_INPUT]), b.ints([0]), b.ints([1])]);
  const clsB = v.op("", "Expand", [cls, v.op("", "Concat", [batch, b.ints([1, 1])], { axis: 0 })]);
  const pos = v.xavier("pos_embed", [1, tokens + 1, a.width], a.width, a.width);
  let x = v.op("", "Add", [v.op("", "Concat", [clsB, pe], { axis: 1 }), pos]);
  for (let i = 0; i < a.depth; i++) x = v.block(i, x, a);
  const normed = v.layerNorm("/norm", x, "norm");
  const first = b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) }, "cls_index");
  const picked = v.op("", "Gather", [normed, first], { axis: 1 });
  const w = v.xavier("head.weight", [a.classes, a.width], a.width, a.classes);
  const bias = v.filled("head.bias", [a.classes], 0);
  b.op("Gemm", [picked, w, bias], { transB: 1 }, { name: "/head/Gemm", outputs: [DEMO_LOGITS] });
  b.output(DEMO_LOGITS, "float32", ["batch", a.classes]);
  return { model: b.build(), parameters: [...v.params] };
}
