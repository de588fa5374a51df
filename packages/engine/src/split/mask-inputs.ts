// Finds the model inputs that carry an attention mask: inputs that reach the blocks without passing
// through the embeddings (cuts[0]). They must grow by P positions when prompts are inserted.
import { topoSort } from "../autodiff/graph-analysis.js";
import type { Graph, Node } from "../ir/types.js";
import { CutTensorError } from "./errors.js";

/** Tensors computed from `source`, not propagating past `barrier`. */
function reach(order: readonly Node[], source: string, barrier?: string): Set<string> {
  const seen = new Set([source]);
  for (const n of order) {
    if (!n.inputs.some((i) => seen.has(i) && i !== barrier)) continue;
    for (const o of n.outputs) if (o !== "") seen.add(o);
  }
  return seen;
}

/**
 * The inputs that feed block nodes other than through `embed`. An input that reaches the blocks both
 * ways (a mask built from the token ids' shape) cannot be extended at the input: that is an error.
 */
export function findMaskInputs(g: Graph, embed: string, inBlocks: (n: Node) => boolean): string[] {
  const order = topoSort(g);
  const masks: string[] = [];
  for (const input of g.inputs) {
    if (g.initializers.has(input.name)) continue;
    const direct = reach(order, input.name, embed);
    const feedsBlocks = order.some((n) => inBlocks(n) && n.inputs.some((i) => i !== embed && direct.has(i)));
    if (!feedsBlocks) continue;
    if (reach(order, input.name).has(embed) || direct.has(embed))
      throw new CutTensorError(
        input.name,
        `input "${input.name}" reaches the blocks both through the embeddings and directly (a mask or a shape ` +
          "computed from it?), so prompts cannot be inserted consistently: export the model with an explicit " +
          "attention_mask input, and blocks that take shapes from their own inputs",
      );
    if (input.shape !== undefined && input.shape.length !== 2)
      throw new CutTensorError(
        input.name,
        `input "${input.name}" reaches the blocks directly but has rank ${input.shape.length}; only [batch, sequence] masks can be extended by the prompt length`,
      );
    masks.push(input.name);
  }
  return masks;
}
