// Inserts P trainable prompt tokens after the CLS token of the embeddings (VPT-shallow), and extends
// the attention-mask inputs by P ones at the same place, so every mask built from them downstream
// (additive [B,1,1,S] masks, Where-based masks) covers the longer sequence.
import { GraphBuilder } from "../builder/graph-builder.js";
import { scalar } from "../ir/tensor.js";
import type { DType, Graph, Node } from "../ir/types.js";
import { rewireConsumers } from "./graph-edit.js";

const TO_END = Number.MAX_SAFE_INTEGER;

/** Nodes appended by `build`, so that rewiring can leave them alone. */
function appended(g: Graph, build: () => string): { out: string; nodes: Set<Node> } {
  const before = g.nodes.length;
  const out = build();
  return { out, nodes: new Set(g.nodes.slice(before)) };
}

/** [x[:, :1], middle, x[:, 1:]] along axis 1, where middle is [B, ...] built from Shape(x)[0:1]. */
function spliceAfterFirst(
  b: GraphBuilder,
  x: string,
  middle: (batch: string) => string,
  out: string,
): string {
  const one = b.ints([1], "one");
  const axis1 = b.ints([1], "axis1");
  const head = b.op("Slice", [x, b.ints([0], "zero"), one, axis1], {}, { name: `${out}/first` });
  const rest = b.op("Slice", [x, one, b.ints([TO_END], "end"), axis1], {}, { name: `${out}/rest` });
  const batch = b.op(
    "Slice",
    [b.op("Shape", [x], {}, { name: `${out}/shape` }), b.ints([0], "zero"), one],
    {},
    {
      name: `${out}/batch`,
    },
  );
  return b.op("Concat", [head, middle(batch), rest], { axis: 1 }, { name: `${out}/concat`, outputs: [out] });
}

/**
 * Makes every consumer of `x` ([B, S, D]) read [x[:, :1], prompt, x[:, 1:]] ([B, S+P, D]) instead;
 * `prompt` is a [P, D] tensor (a graph input). Returns the name of the prompted tensor (`out`).
 */
export function insertPrompt(g: Graph, opset: number, x: string, prompt: string, out: string): string {
  const b = new GraphBuilder({ graph: g, opset });
  const { nodes } = appended(g, () =>
    spliceAfterFirst(
      b,
      x,
      (batch) => {
        const p3 = b.unsqueeze(prompt, [0], { name: `${out}/prompt3d` });
        const shape = b.op(
          "Concat",
          [batch, b.ints([1, 1], "ones")],
          { axis: 0 },
          { name: `${out}/expand_shape` },
        );
        return b.op("Expand", [p3, shape], {}, { name: `${out}/prompt_batch` });
      },
      out,
    ),
  );
  rewireConsumers(g, x, out, nodes);
  return out;
}

/** Makes every consumer of the mask input `mask` ([B, S]) read it with P ones after position 0. */
export function extendMask(
  g: Graph,
  opset: number,
  mask: string,
  dtype: DType,
  p: number,
  out: string,
): string {
  const b = new GraphBuilder({ graph: g, opset });
  const { nodes } = appended(g, () =>
    spliceAfterFirst(
      b,
      mask,
      (batch) => {
        const shape = b.op(
          "Concat",
          [batch, b.ints([p], "prompt_len")],
          { axis: 0 },
          { name: `${out}/ones_shape` },
        );
        return b.op("ConstantOfShape", [shape], { value: scalar(dtype, 1, [1]) }, { name: `${out}/ones` });
      },
      out,
    ),
  );
  rewireConsumers(g, mask, out, nodes);
  return out;
}
