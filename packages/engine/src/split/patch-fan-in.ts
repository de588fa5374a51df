// VPT's prompt fan-in: a prompt token stands in for an embedded patch, so its xavier bound uses the
// patch embedding's input size (channels × kernel area) when the model embeds patches with a Conv.
import { reachingTo, topoSort } from "../autodiff/graph-analysis.js";
import type { Graph } from "../ir/types.js";

/** channels·kh·kw of the Conv that embeds patches before `embed`, or undefined (text models). */
export function patchFanIn(g: Graph, embed: string): number | undefined {
  const order = topoSort(g);
  const before = reachingTo(order, [embed]);
  for (const n of order) {
    if (n.opType !== "Conv" || !n.outputs.some((o) => before.has(o))) continue;
    const w = g.initializers.get(n.inputs[1] ?? "");
    if (w !== undefined && w.dims.length >= 3) return w.dims.slice(1).reduce((a, b) => a * b, 1);
  }
  return undefined;
}
