// Graph surgery used by the splitter: rewiring the consumers of a tensor, and extracting the
// partition that computes some tensors from others (the cut), with the nodes in topological order.
import { producers, topoSort } from "../autodiff/graph-analysis.js";
import type { Graph, Node, ValueInfo } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { CutTensorError } from "./errors.js";

/** Map from tensor name to the nodes reading it. */
export function consumers(nodes: readonly Node[]): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i === "") continue;
      const list = m.get(i) ?? [];
      if (!list.includes(n)) list.push(n);
      m.set(i, list);
    }
  }
  return m;
}

/** Makes every node (but those in `except`) read `to` where it read `from`. */
export function rewireConsumers(
  g: Graph,
  from: string,
  to: string,
  except: ReadonlySet<Node> = new Set(),
): void {
  for (const n of g.nodes) {
    if (except.has(n)) continue;
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
  }
}

/** True when a tensor of that name exists: a graph input, an initializer or a node output. */
export function hasTensor(g: Graph, name: string): boolean {
  return (
    g.initializers.has(name) ||
    g.inputs.some((i) => i.name === name) ||
    g.nodes.some((n) => n.outputs.includes(name))
  );
}

/** Static knowledge of a tensor from the shape table, for partition inputs and outputs. */
export function valueInfoOf(facts: ShapeTable, name: string, fallback?: ValueInfo): ValueInfo {
  const f = facts.get(name);
  if (f === undefined) return fallback ?? { name, dtype: "float32" };
  return f.shape === undefined ? { name, dtype: f.dtype } : { name, dtype: f.dtype, shape: [...f.shape] };
}

export interface ExtractRequest {
  readonly name: string;
  /** Tensors the partition computes (its outputs, in order). */
  readonly outputs: readonly string[];
  /** Tensors computed by earlier partitions: they become inputs and their producers are left out. */
  readonly stops: readonly string[];
  readonly facts: ShapeTable;
}

/** The partition of `g` that computes `outputs` from `stops`, graph inputs and initializers. */
export function extractPartition(g: Graph, req: ExtractRequest): Graph {
  const prod = producers(g.nodes);
  const stops = new Set(req.stops);
  const graphInputs = new Map(g.inputs.map((i) => [i.name, i]));
  const keep = new Set<Node>();
  const usedStops = new Set<string>();
  const usedInputs = new Set<string>();
  const usedInits = new Set<string>();
  const pending = [...req.outputs];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const t = pending.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    if (stops.has(t)) {
      usedStops.add(t);
      continue;
    }
    if (graphInputs.has(t)) {
      usedInputs.add(t);
      if (g.initializers.has(t)) usedInits.add(t);
      continue;
    }
    if (g.initializers.has(t)) {
      usedInits.add(t);
      continue;
    }
    const p = prod.get(t);
    if (p === undefined)
      throw new CutTensorError(
        t,
        `partition "${req.name}" needs tensor "${t}", which no node of the model produces`,
      );
    if (keep.has(p)) continue;
    keep.add(p);
    for (const i of p.inputs) if (i !== "") pending.push(i);
  }
  const inputs = [
    ...req.stops.filter((s) => usedStops.has(s)).map((s) => valueInfoOf(req.facts, s)),
    ...g.inputs.filter((i) => usedInputs.has(i.name)),
  ];
  const initializers = new Map([...g.initializers].filter(([k]) => usedInits.has(k)));
  return {
    name: req.name,
    nodes: topoSort({ ...g, nodes: g.nodes.filter((n) => keep.has(n)) }),
    inputs,
    outputs: req.outputs.map((o) => valueInfoOf(req.facts, o)),
    initializers,
    valueInfo: [],
  };
}

/** Tensors computed (transitively) from `source` in `g`, `source` included. */
export function descendants(g: Graph, source: string, stop?: ReadonlySet<string>): Set<string> {
  const seen = new Set([source]);
  for (const n of topoSort(g)) {
    if (!n.inputs.some((i) => seen.has(i) && !stop?.has(i))) continue;
    for (const o of n.outputs) if (o !== "") seen.add(o);
  }
  return seen;
}
