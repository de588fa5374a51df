// A ViT-style pre-LN transformer block built in code (as torch.onnx exports it: MatMul + Add, Reshape
// with 0-copy dims so the batch may be symbolic, Softmax attention, Erf- or Tanh-GELU MLP).
import type { CaseBuilder } from "./case-builder.js";

export interface BlockDims {
  readonly d: number;
  readonly heads: number;
  readonly mlp: number;
}

/** Names of the block's 16 parameters, in a stable order. */
export const BLOCK_PARAMS = [
  "ln1.g",
  "ln1.b",
  "wq",
  "bq",
  "wk",
  "bk",
  "wv",
  "bv",
  "wo",
  "bo",
  "ln2.g",
  "ln2.b",
  "w1",
  "b1",
  "w2",
  "b2",
] as const;

function gelu(c: CaseBuilder, x: string, kind: "erf" | "tanh"): string {
  const b = c.b;
  const k = (v: number): string =>
    b.constant(
      c.dtype === "float64"
        ? { dtype: "float64", dims: [], data: Float64Array.of(v) }
        : { dtype: "float32", dims: [], data: Float32Array.of(v) },
    );
  if (kind === "erf") {
    const e = b.op("Erf", [b.op("Div", [x, k(Math.SQRT2)])]);
    return b.op("Mul", [b.op("Mul", [x, b.op("Add", [e, k(1)])]), k(0.5)]);
  }
  const inner = b.op("Mul", [
    k(Math.sqrt(2 / Math.PI)),
    b.op("Add", [x, b.op("Mul", [k(0.044715), b.op("Pow", [x, k(3)])])]),
  ]);
  return b.op("Mul", [b.op("Mul", [k(0.5), x]), b.op("Add", [k(1), b.op("Tanh", [inner])])]);
}

/** Appends a block reading x [B, S, d] and returns its output name; parameters become initializers. */
export function vitBlock(c: CaseBuilder, x: string, dims: BlockDims, act: "erf" | "tanh"): string {
  const { d, heads, mlp } = dims;
  const dh = d / heads;
  const b = c.b;
  const s = { scale: 0.3 };
  const w = (n: string, shape: number[]): string =>
    c.w(n, shape, n.startsWith("ln") && n.endsWith(".g") ? { range: [0.8, 1.2] } : s);
  const lin = (h: string, wn: string, bn: string, din: number, dout: number): string =>
    b.op("Add", [b.op("MatMul", [h, w(wn, [din, dout])]), w(bn, [dout])]);
  const h1 = b.op("LayerNormalization", [x, w("ln1.g", [d]), w("ln1.b", [d])], { axis: -1, epsilon: 1e-5 });
  const split = (t: string, perm: number[]): string =>
    b.op("Transpose", [b.op("Reshape", [t, b.ints([0, 0, heads, dh])])], { perm });
  const q = split(lin(h1, "wq", "bq", d, d), [0, 2, 1, 3]);
  const k = split(lin(h1, "wk", "bk", d, d), [0, 2, 3, 1]);
  const v = split(lin(h1, "wv", "bv", d, d), [0, 2, 1, 3]);
  const scores = b.op("Div", [b.op("MatMul", [q, k]), b.constant(scalarLike(c, Math.sqrt(dh)))]);
  const attn = b.op("MatMul", [b.op("Softmax", [scores], { axis: -1 }), v]);
  const merged = b.op("Reshape", [b.op("Transpose", [attn], { perm: [0, 2, 1, 3] }), b.ints([0, 0, d])]);
  const r1 = b.op("Add", [x, lin(merged, "wo", "bo", d, d)]);
  const h2 = b.op("LayerNormalization", [r1, w("ln2.g", [d]), w("ln2.b", [d])], { axis: -1, epsilon: 1e-5 });
  const m = lin(gelu(c, lin(h2, "w1", "b1", d, mlp), act), "w2", "b2", mlp, d);
  return b.op("Add", [r1, m]);
}

function scalarLike(
  c: CaseBuilder,
  v: number,
): { dtype: "float64" | "float32"; dims: number[]; data: Float64Array | Float32Array } {
  return c.dtype === "float64"
    ? { dtype: "float64", dims: [], data: Float64Array.of(v) }
    : { dtype: "float32", dims: [], data: Float32Array.of(v) };
}
