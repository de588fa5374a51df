// Graph walks used by autodiff: producers, topological order, reachability and dead-node pruning.
import { GraphError } from "../errors.js";
import type { Graph, Node } from "../ir/types.js";

/** Map from tensor name to the node producing it. */
export function producers(nodes: readonly Node[]): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) if (o !== "") m.set(o, n);
  return m;
}

/** Nodes in an order where every producer comes before its consumers (stable for sorted input). */
export function topoSort(graph: Graph): Node[] {
  const prod = producers(graph.nodes);
  const state = new Map<Node, 1 | 2>();
  const order: Node[] = [];
  const visit = (n: Node): void => {
    const s = state.get(n);
    if (s === 2) return;
    if (s === 1) throw new GraphError(`the graph has a cycle through node "${n.name}"`);
    state.set(n, 1);
    for (const i of n.inputs) {
      const p = prod.get(i);
      if (p !== undefined) visit(p);
    }
    state.set(n, 2);
    order.push(n);
  };
  for (const n of graph.nodes) visit(n);
  return order;
}

/** Tensors computed from any of `sources` (forward reachability), sources included. */
export function reachableFrom(
  nodes: readonly Node[],
  sources: Iterable<string>,
  through?: (name: string) => boolean,
): Set<string> {
  const seen = new Set(sources);
  for (const n of nodes) {
    if (!n.inputs.some((i) => seen.has(i))) continue;
    for (const o of n.outputs) if (o !== "" && (through === undefined || through(o))) seen.add(o);
  }
  return seen;
}

/** Tensors from which any of `targets` is computed (backward reachability), targets included. */
export function reachingTo(nodes: readonly Node[], targets: Iterable<string>): Set<string> {
  const seen = new Set(targets);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k] as Node;
    if (!n.outputs.some((o) => seen.has(o))) continue;
    for (const i of n.inputs) if (i !== "") seen.add(i);
  }
  return seen;
}

/** Drops nodes and initializers that no graph output depends on (ORT would run them otherwise). */
export function pruneDead(graph: Graph): void {
  const order = topoSort(graph);
  const live = reachingTo(
    order,
    graph.outputs.map((o) => o.name),
  );
  graph.nodes = order.filter((n) => n.outputs.some((o) => live.has(o)));
  for (const name of [...graph.initializers.keys()]) {
    if (!live.has(name) && !graph.inputs.some((i) => i.name === name)) graph.initializers.delete(name);
  }
  graph.valueInfo = graph.valueInfo.filter((v) => live.has(v.name));
}
