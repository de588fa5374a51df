// A tiny ViT for 28×28 grayscale images, built with GraphBuilder and named like a timm export
// (/blocks.N/...), so that the splitter finds its blocks: the model the runtime tests train.
import { GraphBuilder, float, type Model, type Tensor } from "@sfprompt/engine";
import { Rng } from "@sfprompt/core";

export interface TinyVitOptions {
  readonly blocks?: number;
  readonly width?: number;
  readonly classes?: number;
  readonly seed?: number;
}

const PATCH = 7;
const GRID = 4;

class Builder {
  readonly b = new GraphBuilder({ opset: 17 });
  readonly rng: Rng;
  constructor(
    seed: number,
    readonly d: number,
  ) {
    this.rng = new Rng(seed);
  }

  normal(dims: number[], scale: number): Tensor {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = Math.max(this.rng.next(), 1e-12);
      data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next()) * scale;
    }
    return { dtype: "float32", dims, data };
  }

  w(name: string, dims: number[], scale: number): string {
    return this.b.initializer(name, this.normal(dims, scale));
  }

  const(v: number): string {
    return this.b.constant({ dtype: "float32", dims: [], data: Float32Array.of(v) }, "c");
  }

  op(scope: string, opType: string, inputs: string[], attrs: Parameters<GraphBuilder["op"]>[2] = {}): string {
    const name = this.b.fresh(`${scope}/${opType}`);
    return this.b.op(opType, inputs, attrs, { name, outputs: [`${name}_output_0`] });
  }

  ln(scope: string, x: string, param: string): string {
    const g = this.b.initializer(`${param}.weight`, {
      dtype: "float32",
      dims: [this.d],
      data: new Float32Array(this.d).fill(1),
    });
    const bias = this.b.initializer(`${param}.bias`, {
      dtype: "float32",
      dims: [this.d],
      data: new Float32Array(this.d),
    });
    return this.op(`${scope}/LayerNorm`, "LayerNormalization", [x, g, bias], {
      axis: -1,
      epsilon: float(1e-5),
    });
  }

  linear(scope: string, x: string, param: string, din: number, dout: number): string {
    const y = this.op(scope, "MatMul", [x, this.w(`${param}.weight`, [din, dout], 1 / Math.sqrt(din))]);
    return this.op(scope, "Add", [y, this.w(`${param}.bias`, [dout], 0.02)]);
  }

  attention(scope: string, x: string, param: string): string {
    const d = this.d;
    const q = this.linear(`${scope}/query`, x, `${param}.query`, d, d);
    const k = this.linear(`${scope}/key`, x, `${param}.key`, d, d);
    const v = this.linear(`${scope}/value`, x, `${param}.value`, d, d);
    const kt = this.op(scope, "Transpose", [k], { perm: [0, 2, 1] });
    const s = this.op(scope, "Div", [this.op(scope, "MatMul", [q, kt]), this.const(Math.sqrt(d))]);
    const a = this.op(scope, "Softmax", [s], { axis: -1 });
    return this.linear(`${scope}/proj`, this.op(scope, "MatMul", [a, v]), `${param}.proj`, d, d);
  }

  mlp(scope: string, x: string, param: string): string {
    const h = this.linear(`${scope}/fc1`, x, `${param}.fc1`, this.d, 2 * this.d);
    const e = this.op(scope, "Erf", [this.op(scope, "Div", [h, this.const(Math.SQRT2)])]);
    const g = this.op(scope, "Mul", [
      this.op(scope, "Mul", [h, this.op(scope, "Add", [e, this.const(1)])]),
      this.const(0.5),
    ]);
    return this.linear(`${scope}/fc2`, g, `${param}.fc2`, 2 * this.d, this.d);
  }
}

/** pixel_values [B, 1, 28, 28] → 16 patches of 7×7 → CLS + positions → pre-norm blocks → LN → CLS → Gemm. */
export function tinyVit(o: TinyVitOptions = {}): Model {
  const d = o.width ?? 24;
  const classes = o.classes ?? 10;
  const t = new Builder(o.seed ?? 7, d);
  const b = t.b;
  b.input("pixel_values", "float32", ["batch", 1, 28, 28]);
  const grid = t.op("/patch_embed", "Reshape", ["pixel_values", b.ints([-1, GRID, PATCH, GRID, PATCH])]);
  const moved = t.op("/patch_embed", "Transpose", [grid], { perm: [0, 1, 3, 2, 4] });
  const patches = t.op("/patch_embed", "Reshape", [moved, b.ints([-1, GRID * GRID, PATCH * PATCH])]);
  const pe = t.linear("/patch_embed/proj", patches, "patch_embed.proj", PATCH * PATCH, d);
  const cls = t.w("cls_token", [1, 1, d], 0.02);
  const batch = t.op("", "Slice", [t.op("", "Shape", ["pixel_values"]), b.ints([0]), b.ints([1])]);
  const clsB = t.op("", "Expand", [cls, t.op("", "Concat", [batch, b.ints([1, 1])], { axis: 0 })]);
  let x = t.op("", "Add", [
    t.op("", "Concat", [clsB, pe], { axis: 1 }),
    t.w("pos_embed", [1, GRID * GRID + 1, d], 0.02),
  ]);
  for (let i = 0; i < (o.blocks ?? 3); i++) {
    const s = `/blocks.${i}`;
    x = t.op(s, "Add", [
      x,
      t.attention(`${s}/attn`, t.ln(`${s}/norm1`, x, `blocks.${i}.norm1`), `blocks.${i}.attn`),
    ]);
    x = t.op(s, "Add", [x, t.mlp(`${s}/mlp`, t.ln(`${s}/norm2`, x, `blocks.${i}.norm2`), `blocks.${i}.mlp`)]);
  }
  const normed = t.ln("/norm", x, "norm");
  const idx = b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) }, "idx");
  const picked = t.op("", "Gather", [normed, idx], { axis: 1 });
  const w = t.w("head.weight", [classes, d], 1 / Math.sqrt(d));
  const bias = t.w("head.bias", [classes], 0.0);
  b.op("Gemm", [picked, w, bias], { transB: 1 }, { name: "/head/Gemm", outputs: ["logits"] });
  b.output("logits", "float32", ["batch", classes]);
  return b.build();
}
