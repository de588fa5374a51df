// The pooling that turns a token sequence [B, S, D] into the one vector per sample [B, D] the tail
// reads: the CLS token, or the mean over tokens (masked by the attention mask when the model has one).
import { GraphBuilder } from "../builder/graph-builder.js";
import { codeFromDtype } from "../ir/dtype.js";
import { i64 } from "../ir/tensor.js";
import type { DType, Graph } from "../ir/types.js";

export type Pooling = "cls" | "mean";

export interface PoolingRequest {
  readonly x: string;
  readonly out: string;
  readonly mode: Pooling;
  readonly dtype: DType;
  /** The (prompt-extended) attention mask [B, S], for a masked mean. */
  readonly mask?: string;
}

/** Appends the pooling nodes to `g`; their last output is named `req.out`. */
export function appendPooling(g: Graph, opset: number, req: PoolingRequest): string {
  const b = new GraphBuilder({ graph: g, opset });
  const name = (s: string): { name: string } => ({ name: `${req.out}/${s}` });
  if (req.mode === "cls") {
    const zero = b.constant(i64([], [0]), "cls_index");
    return b.op("Gather", [req.x, zero], { axis: 1 }, { ...name("cls"), outputs: [req.out] });
  }
  if (req.mask === undefined) return b.reduceMean(req.x, [1], false, { ...name("mean"), outputs: [req.out] });
  const m = b.op("Cast", [req.mask], { to: codeFromDtype(req.dtype) }, name("mask_float"));
  const m3 = b.unsqueeze(m, [2], name("mask3d"));
  const sum = b.reduceSum(b.op("Mul", [req.x, m3], {}, name("masked")), [1], false, name("sum"));
  const count = b.reduceSum(m3, [1], false, name("count"));
  return b.op("Div", [sum, count], {}, { ...name("mean"), outputs: [req.out] });
}
