// Builds a pre-trained BERT encoder (all-MiniLM-L6-v2) as an ONNX graph in code, from its safetensors
// weights, with a fresh CLS classifier. Node names follow torch.onnx's export of HF's
// BertForSequenceClassification (`/bert/encoder/layer.N/...`), so the splitter finds the blocks and
// the attention_mask input as in a real export (docs/adr/0008, docs/adr/0027).
import { float, type Model, type Tensor } from "@sfprompt/engine";
import { Rng } from "../datasets/rng.js";
import { TorchNamedGraph } from "../demo/torch-named-graph.js";
import { xavierUniform } from "../training/init.js";
import { checkBertConfig, type BertConfig } from "./bert-config.js";
import { MinilmConfigError } from "./errors.js";
import type { FloatTensor } from "./safetensors.js";

export const MINILM_INPUT_IDS = "input_ids";
export const MINILM_ATTENTION_MASK = "attention_mask";
export const MINILM_LOGITS = "logits";
export const MINILM_HIDDEN = "last_hidden_state";

/** Where the weights come from: a SafetensorsFile, or any map of HF BertModel names to tensors. */
export interface BertWeights {
  /** The float tensor `name` (BertModel's state-dict name); `shape` is checked when given. */
  float(name: string, shape?: readonly number[]): FloatTensor;
}

export interface BertBuildOptions {
  /** Classes of the fresh classifier on the CLS token (≥ 2). */
  readonly numClasses: number;
  /** Seed of the classifier's xavier-uniform weight (default 0). */
  readonly seed?: number;
}

// HF's get_extended_attention_mask: (1 - mask) · finfo(float32).min, added to the scores.
const FLOAT32_MIN = -3.4028234663852886e38;

class BertGraph extends TorchNamedGraph {
  constructor(
    readonly c: BertConfig,
    private readonly w: BertWeights,
  ) {
    super();
  }

  /** A pre-trained tensor as an initializer named `bert.<name>`. */
  weight(name: string, shape: readonly number[]): string {
    const t = this.w.float(name, shape);
    return this.b.initializer(`bert.${name}`, floatTensor(t.dims, t.data));
  }

  scalar(v: number): string {
    return this.b.constant({ dtype: "float32", dims: [], data: Float32Array.of(v) }, "c");
  }

  /** x · Wᵀ + b, with W stored transposed ([in, out], `<name>.weight_t`) so that MatMul reads it as is. */
  linear(scope: string, x: string, name: string, din: number, dout: number): string {
    const w = this.w.float(`${name}.weight`, [dout, din]);
    const wt = this.b.initializer(
      `bert.${name}.weight_t`,
      floatTensor([din, dout], transpose(w.data, dout, din)),
    );
    const y = this.op(scope, "MatMul", [x, wt]);
    return this.op(scope, "Add", [y, this.weight(`${name}.bias`, [dout])]);
  }

  layerNorm(scope: string, x: string, name: string, output?: string): string {
    const d = this.c.hiddenSize;
    const inputs = [x, this.weight(`${name}.weight`, [d]), this.weight(`${name}.bias`, [d])];
    const attrs = { axis: -1, epsilon: float(this.c.layerNormEps) };
    if (output === undefined) return this.op(scope, "LayerNormalization", inputs, attrs);
    return this.b.op("LayerNormalization", inputs, attrs, {
      name: `${scope}/LayerNormalization`,
      outputs: [output],
    });
  }

  /** HF's "gelu": x · ½ · (1 + erf(x / √2)), written as torch.onnx writes it (the engine fuses it). */
  gelu(scope: string, x: string): string {
    const e = this.op(scope, "Erf", [this.op(scope, "Div", [x, this.scalar(Math.SQRT2)])]);
    const one = this.op(scope, "Add", [e, this.scalar(1)]);
    return this.op(scope, "Mul", [this.op(scope, "Mul", [x, one]), this.scalar(0.5)]);
  }

  embeddings(): string {
    const { b, c } = this;
    const s = "/bert/embeddings";
    const d = c.hiddenSize;
    const words = this.op(`${s}/word_embeddings`, "Gather", [
      this.weight("embeddings.word_embeddings.weight", [c.vocabSize, d]),
      MINILM_INPUT_IDS,
    ]);
    // token_type_ids are always 0 for single sentences: row 0 of the type table is added as a constant.
    const types = this.w.float("embeddings.token_type_embeddings.weight", [c.typeVocabSize, d]);
    const typeRow = b.initializer(
      "bert.embeddings.token_type_embeddings.row_0",
      floatTensor([d], types.data.slice(0, d)),
    );
    const seq = this.op(s, "Gather", [
      this.op(s, "Shape", [MINILM_INPUT_IDS]),
      b.constant(i64Scalar(1), "one"),
    ]);
    const ids = this.op(s, "Range", [b.constant(i64Scalar(0), "zero"), seq, b.constant(i64Scalar(1), "one")]);
    const positions = this.op(`${s}/position_embeddings`, "Gather", [
      this.weight("embeddings.position_embeddings.weight", [c.maxPositions, d]),
      ids,
    ]);
    const sum = this.op(s, "Add", [this.op(s, "Add", [words, typeRow]), positions]);
    return this.layerNorm(`${s}/LayerNorm`, sum, "embeddings.LayerNorm");
  }

  /** [B, S] 0/1 → [B, 1, 1, S] additive mask, as BertModel builds it. */
  additiveMask(): string {
    const s = "/bert";
    const m = this.op(s, "Unsqueeze", [MINILM_ATTENTION_MASK, this.b.ints([1, 2])]);
    const f = this.op(s, "Cast", [m], { to: 1 });
    return this.op(s, "Mul", [this.op(s, "Sub", [this.scalar(1), f]), this.scalar(FLOAT32_MIN)]);
  }

  selfAttention(scope: string, x: string, name: string, mask: string): string {
    const { b, c } = this;
    const d = c.hiddenSize;
    const dh = d / c.heads;
    const heads = (t: string, perm: number[]): string =>
      this.op(scope, "Transpose", [this.op(scope, "Reshape", [t, b.ints([0, 0, c.heads, dh])])], { perm });
    const q = heads(this.linear(`${scope}/query`, x, `${name}.query`, d, d), [0, 2, 1, 3]);
    const k = heads(this.linear(`${scope}/key`, x, `${name}.key`, d, d), [0, 2, 3, 1]);
    const v = heads(this.linear(`${scope}/value`, x, `${name}.value`, d, d), [0, 2, 1, 3]);
    const scores = this.op(scope, "Div", [this.op(scope, "MatMul", [q, k]), this.scalar(Math.sqrt(dh))]);
    const probs = this.op(scope, "Softmax", [this.op(scope, "Add", [scores, mask])], { axis: -1 });
    const ctx = this.op(scope, "Transpose", [this.op(scope, "MatMul", [probs, v])], { perm: [0, 2, 1, 3] });
    return this.op(scope, "Reshape", [ctx, b.ints([0, 0, d])]);
  }

  /** One post-LN BERT layer; the last one's output is named `output` when given. */
  layer(i: number, x: string, mask: string, output?: string): string {
    const { c } = this;
    const s = `/bert/encoder/layer.${i}`;
    const p = `encoder.layer.${i}`;
    const d = c.hiddenSize;
    const ctx = this.selfAttention(`${s}/attention/self`, x, `${p}.attention.self`, mask);
    const so = `${s}/attention/output`;
    const projected = this.linear(`${so}/dense`, ctx, `${p}.attention.output.dense`, d, d);
    const attn = this.layerNorm(
      `${so}/LayerNorm`,
      this.op(so, "Add", [projected, x]),
      `${p}.attention.output.LayerNorm`,
    );
    const si = `${s}/intermediate`;
    const inter = this.linear(`${si}/dense`, attn, `${p}.intermediate.dense`, d, c.intermediateSize);
    const act = this.gelu(`${si}/intermediate_act_fn`, inter);
    const o = `${s}/output`;
    const down = this.linear(`${o}/dense`, act, `${p}.output.dense`, c.intermediateSize, d);
    return this.layerNorm(`${o}/LayerNorm`, this.op(o, "Add", [down, attn]), `${p}.output.LayerNorm`, output);
  }
}

function floatTensor(dims: readonly number[], data: Float32Array): Tensor {
  return { dtype: "float32", dims: [...dims], data };
}

function i64Scalar(v: number): Tensor {
  return { dtype: "int64", dims: [], data: BigInt64Array.of(BigInt(v)) };
}

/** [rows, cols] row-major → [cols, rows]. */
function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < cols; k++) out[k * rows + r] = src[r * cols + k] as number;
  return out;
}

/**
 * The BERT encoder with pre-trained weights and a fresh classifier (xavier-uniform weight, zero bias)
 * on the CLS token. Inputs input_ids and attention_mask (int64 [batch, sequence]); outputs logits
 * [batch, numClasses] and last_hidden_state [batch, sequence, hidden].
 */
export function buildBertClassifier(c: BertConfig, weights: BertWeights, o: BertBuildOptions): Model {
  checkBertConfig(c);
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2)
    throw new MinilmConfigError("numClasses", `must be a whole number ≥ 2 (got ${o.numClasses})`);
  const g = new BertGraph(c, weights);
  const { b } = g;
  b.input(MINILM_INPUT_IDS, "int64", ["batch", "sequence"]);
  b.input(MINILM_ATTENTION_MASK, "int64", ["batch", "sequence"]);
  let x = g.embeddings();
  const mask = g.additiveMask();
  for (let i = 0; i < c.layers; i++) x = g.layer(i, x, mask, i === c.layers - 1 ? MINILM_HIDDEN : undefined);
  const cls = g.op("/bert/pooler", "Gather", [x, b.constant(i64Scalar(0), "cls_index")], { axis: 1 });
  const w = xavierUniform([o.numClasses, c.hiddenSize], new Rng(o.seed ?? 0), {
    fanIn: c.hiddenSize,
    fanOut: o.numClasses,
  });
  const weight = b.initializer("classifier.weight", floatTensor(w.shape, w.data));
  const bias = b.initializer("classifier.bias", floatTensor([o.numClasses], new Float32Array(o.numClasses)));
  b.op("Gemm", [cls, weight, bias], { transB: 1 }, { name: "/classifier/Gemm", outputs: [MINILM_LOGITS] });
  b.output(MINILM_LOGITS, "float32", ["batch", o.numClasses]);
  b.output(MINILM_HIDDEN, "float32", ["batch", "sequence", c.hiddenSize]);
  return b.build();
}
