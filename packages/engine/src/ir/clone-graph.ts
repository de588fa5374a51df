// A deep-enough copy of a graph for the passes that rewrite one (autodiff, the splitter).
import type { Graph } from "./types.js";

/** A copy whose node lists, inputs, outputs and initializer map can be edited freely. */
export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: { ...n.attrs },
    })),
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    initializers: new Map(g.initializers),
    valueInfo: [...g.valueInfo],
  };
}
