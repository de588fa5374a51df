// Small transformer classifiers built with GraphBuilder for the splitter tests: a pre-norm ViT-like
// model (CLS token, final LayerNorm, CLS Gather, Gemm head) and a post-norm BERT-like model (attention
// mask made additive or Where-based, pooler, classifier), with torch.onnx-style scoped node names.
import { GraphBuilder, float, type Model, type Tensor } from "@sfprompt/engine";
import { randomIds, randomTensor, Rng } from "./random.js";

export interface ToyOptions {
  readonly blocks: number;
  readonly width?: number;
  readonly classes?: number;
  /** Prefix of block i's node names (default "/blocks." for the ViT, "/encoder/layer." for the BERT). */
  readonly blockPrefix?: string;
  readonly seed?: number;
  /** How the ViT picks what the head reads: CLS by Gather (default), CLS by Slice + Squeeze, or the mean. */
  readonly selection?: "gather" | "slice" | "mean";
  /** The ViT's final norm as one LayerNormalization (default) or decomposed as opset-14 exports write it. */
  readonly finalNorm?: "fused" | "decomposed";
  /** Default-domain opset (default 17); below 17 every LayerNorm is decomposed, as such exports have it. */
  readonly opset?: number;
}

export interface ToyModel {
  readonly model: Model;
  readonly feeds: Record<string, Tensor>;
}

class Toy {
  readonly b: GraphBuilder;
  readonly rng: Rng;
  constructor(
    seed: number,
    readonly d: number,
    opset = 17,
  ) {
    this.b = new GraphBuilder({ opset });
    this.rng = new Rng(seed);
  }

  w(name: string, dims: number[], scale = 0.3): string {
    return this.b.initializer(name, randomTensor(this.rng, "float32", dims, { scale }));
  }

  private readonly counts = new Map<string, number>();

  /** A node named like torch.onnx names them: <scope>/<Op>, <scope>/<Op>_1, ... with <name>_output_0. */
  op(scope: string, opType: string, inputs: string[], attrs: Parameters<GraphBuilder["op"]>[2] = {}): string {
    const key = `${scope}/${opType}`;
    const k = this.counts.get(key) ?? 0;
    this.counts.set(key, k + 1);
    const name = k === 0 ? key : `${key}_${k}`;
    return this.b.op(opType, inputs, attrs, { name, outputs: [`${name}_output_0`] });
  }

  /** ReduceMean with torch.onnx-style names (axes as attribute before opset 18, as input after). */
  reduceMean(scope: string, x: string, axes: number[], keepdims: boolean): string {
    const key = `${scope}/ReduceMean`;
    const k = this.counts.get(key) ?? 0;
    this.counts.set(key, k + 1);
    const name = k === 0 ? key : `${key}_${k}`;
    return this.b.reduceMean(x, axes, keepdims, { name, outputs: [`${name}_output_0`] });
  }

  /** LayerNorm written out: (x - mean) / sqrt(var + eps) * w + b, reductions over the last axis. */
  lnDecomposed(scope: string, x: string, param: string): string {
    const c = (v: number): string => this.b.constant(randomScalar(v), "c");
    const mean = this.reduceMean(scope, x, [-1], true);
    const d = this.op(scope, "Sub", [x, mean]);
    const variance = this.reduceMean(scope, this.op(scope, "Pow", [d, c(2)]), [-1], true);
    const n = this.op(scope, "Div", [
      d,
      this.op(scope, "Sqrt", [this.op(scope, "Add", [variance, c(1e-5)])]),
    ]);
    const w = this.b.initializer(
      `${param}.weight`,
      randomTensor(this.rng, "float32", [this.d], { range: [0.8, 1.2] }),
    );
    return this.op(scope, "Add", [this.op(scope, "Mul", [n, w]), this.w(`${param}.bias`, [this.d], 0.1)]);
  }

  ln(scope: string, x: string, param: string): string {
    if (this.b.opset < 17) return this.lnDecomposed(scope, x, param);
    const ones = randomTensor(this.rng, "float32", [this.d], { range: [0.8, 1.2] });
    const g = this.b.initializer(`${param}.weight`, ones);
    const bias = this.w(`${param}.bias`, [this.d], 0.1);
    return this.op(`${scope}/LayerNorm`, "LayerNormalization", [x, g, bias], {
      axis: -1,
      epsilon: float(1e-5),
    });
  }

  linear(scope: string, x: string, param: string, din: number, dout: number): string {
    const y = this.op(scope, "MatMul", [x, this.w(`${param}.weight`, [din, dout], 1 / Math.sqrt(din))]);
    return this.op(scope, "Add", [y, this.w(`${param}.bias`, [dout], 0.1)]);
  }

  gelu(scope: string, x: string): string {
    const c = (v: number): string => this.b.constant(randomScalar(v), "c");
    const e = this.op(scope, "Erf", [this.op(scope, "Div", [x, c(Math.SQRT2)])]);
    return this.op(scope, "Mul", [this.op(scope, "Mul", [x, this.op(scope, "Add", [e, c(1)])]), c(0.5)]);
  }

  /** Single-head self-attention; `mask(scores)` applies the attention mask to [B, S, S] scores. */
  attention(scope: string, x: string, param: string, mask?: (s: string) => string): string {
    const d = this.d;
    const q = this.linear(`${scope}/query`, x, `${param}.query`, d, d);
    const k = this.linear(`${scope}/key`, x, `${param}.key`, d, d);
    const v = this.linear(`${scope}/value`, x, `${param}.value`, d, d);
    const kt = this.op(scope, "Transpose", [k], { perm: [0, 2, 1] });
    let s = this.op(scope, "Div", [
      this.op(scope, "MatMul", [q, kt]),
      this.b.constant(randomScalar(Math.sqrt(d)), "c"),
    ]);
    if (mask) s = mask(s);
    const a = this.op(scope, "Softmax", [s], { axis: -1 });
    return this.linear(`${scope}/output`, this.op(scope, "MatMul", [a, v]), `${param}.output`, d, d);
  }

  mlp(scope: string, x: string, param: string): string {
    const h = this.gelu(scope, this.linear(`${scope}/fc1`, x, `${param}.fc1`, this.d, 2 * this.d));
    return this.linear(`${scope}/fc2`, h, `${param}.fc2`, 2 * this.d, this.d);
  }

  classifier(scope: string, x: string, param: string, classes: number): string {
    const w = this.w(`${param}.weight`, [classes, this.d], 1 / Math.sqrt(this.d));
    const bias = this.w(`${param}.bias`, [classes], 0.1);
    return this.b.op("Gemm", [x, w, bias], { transB: 1 }, { name: `${scope}/Gemm`, outputs: ["logits"] });
  }
}

function randomScalar(v: number): Tensor {
  return { dtype: "float32", dims: [], data: Float32Array.of(v) };
}

function select(t: Toy, x: string, how: "gather" | "slice" | "mean"): string {
  const b = t.b;
  if (how === "mean") return t.reduceMean("", x, [1], false);
  if (how === "slice") {
    const first = t.op("", "Slice", [x, b.ints([0]), b.ints([1]), b.ints([1])]);
    return t.op("", "Squeeze", [first, b.ints([1])]);
  }
  const zero = b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) }, "idx");
  return t.op("", "Gather", [x, zero], { axis: 1 });
}

/** ViT-like: tokens [B, 6, 5] -> patch projection -> CLS + positions -> pre-norm blocks -> LN -> CLS -> Gemm. */
export function toyVit(o: ToyOptions): ToyModel {
  const d = o.width ?? 8;
  const t = new Toy(o.seed ?? 1, d, o.opset);
  const b = t.b;
  const [tokens, din] = [6, 5];
  b.input("patches", "float32", ["batch", tokens, din]);
  const pe = t.linear("/patch_embed/proj", "patches", "patch_embed.proj", din, d);
  const cls = t.w("cls_token", [1, 1, d]);
  const batch = t.op("", "Slice", [t.op("", "Shape", ["patches"]), b.ints([0]), b.ints([1])]);
  const clsB = t.op("", "Expand", [cls, t.op("", "Concat", [batch, b.ints([1, 1])], { axis: 0 })]);
  let x = t.op("", "Add", [
    t.op("", "Concat", [clsB, pe], { axis: 1 }),
    t.w("pos_embed", [1, tokens + 1, d]),
  ]);
  const prefix = o.blockPrefix ?? "/blocks.";
  for (let i = 0; i < o.blocks; i++) {
    const s = `${prefix}${i}`;
    x = t.op(s, "Add", [
      x,
      t.attention(`${s}/attn`, t.ln(`${s}/norm1`, x, `blocks.${i}.norm1`), `blocks.${i}.attn`),
    ]);
    x = t.op(s, "Add", [x, t.mlp(`${s}/mlp`, t.ln(`${s}/norm2`, x, `blocks.${i}.norm2`), `blocks.${i}.mlp`)]);
  }
  const normed = o.finalNorm === "decomposed" ? t.lnDecomposed("/norm", x, "norm") : t.ln("/norm", x, "norm");
  const picked = select(t, normed, o.selection ?? "gather");
  t.classifier("/head", picked, "head", o.classes ?? 4);
  b.output("logits", "float32", ["batch", o.classes ?? 4]);
  const rng = new Rng((o.seed ?? 1) + 100);
  return { model: b.build(), feeds: { patches: randomTensor(rng, "float32", [3, tokens, din]) } };
}

export interface ToyBertOptions extends ToyOptions {
  readonly mask: "additive" | "where";
}

/** BERT-like: ids + attention_mask [B, S] -> embeddings + LN -> post-norm blocks -> pooler -> classifier. */
export function toyBert(o: ToyBertOptions): ToyModel {
  const d = o.width ?? 8;
  const t = new Toy(o.seed ?? 2, d);
  const b = t.b;
  const vocab = 20;
  b.input("input_ids", "int64", ["batch", "sequence"]);
  b.input("attention_mask", "int64", ["batch", "sequence"]);
  const emb = t.op("/embeddings/word", "Gather", [t.w("embeddings.word.weight", [vocab, d], 1), "input_ids"]);
  let x = t.ln("/embeddings", emb, "embeddings.LayerNorm");
  const m3 = t.op("", "Cast", [b.unsqueeze("attention_mask", [1])], { to: 1 });
  const c = (v: number): string => b.constant(randomScalar(v), "c");
  const additive = t.op("", "Mul", [t.op("", "Sub", [c(1), m3]), c(-10000)]);
  const blocked = t.op("", "Equal", [m3, c(0)]);
  // As in torch.onnx exports, the mask is applied by a node inside the block's scope.
  const mask =
    o.mask === "additive"
      ? (scope: string, s: string): string => t.op(scope, "Add", [s, additive])
      : (scope: string, s: string): string => t.op(scope, "Where", [blocked, c(-10000), s]);
  const prefix = o.blockPrefix ?? "/encoder/layer.";
  for (let i = 0; i < o.blocks; i++) {
    const s = `${prefix}${i}`;
    const a = t.attention(`${s}/attention`, x, `encoder.layer.${i}.attention`, (sc) =>
      mask(`${s}/attention`, sc),
    );
    x = t.ln(`${s}/attention/output`, t.op(s, "Add", [a, x]), `encoder.layer.${i}.attention.LayerNorm`);
    x = t.ln(
      `${s}/output`,
      t.op(s, "Add", [t.mlp(`${s}/mlp`, x, `encoder.layer.${i}.mlp`), x]),
      `encoder.layer.${i}.output.LayerNorm`,
    );
  }
  const first = t.op(
    "/pooler",
    "Gather",
    [x, b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) }, "idx")],
    {
      axis: 1,
    },
  );
  const pw = t.w("pooler.dense.weight", [d, d], 1 / Math.sqrt(d));
  const pooled = t.op("/pooler", "Tanh", [
    t.op("/pooler/dense", "Gemm", [first, pw, t.w("pooler.dense.bias", [d], 0.1)], { transB: 1 }),
  ]);
  t.classifier("/classifier", pooled, "classifier", o.classes ?? 3);
  b.output("logits", "float32", ["batch", o.classes ?? 3]);
  const rng = new Rng((o.seed ?? 2) + 100);
  const mask01 = BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0], (v) => BigInt(v));
  return {
    model: b.build(),
    feeds: {
      input_ids: randomIds(rng, [3, 6], vocab),
      attention_mask: { dtype: "int64", dims: [3, 6], data: mask01 },
    },
  };
}
