// Finds exporters' erf-GELU subgraphs (x * (1 + erf(x / sqrt 2)) * 0.5, as torch.onnx and HF write it)
// so the sweep can differentiate each as one Gelu: a compact derivative of x alone instead of five
// primitive rules that keep the intermediates alive (which also blocks ORT's Gelu fusion).
import type { Graph, Node, Tensor } from "../ir/types.js";
import { producers } from "./graph-analysis.js";

/** One matched subgraph: y = gelu(x); `inner` are the nodes it replaces other than the last. */
export interface GeluMatch {
  readonly x: string;
  readonly last: Node;
  readonly inner: readonly Node[];
}

const TOL = 1e-4;

function near(v: number | undefined, target: number): boolean {
  return v !== undefined && Math.abs(v - target) <= TOL * Math.abs(target);
}

/** The value of a one-element float constant (initializer or Constant node), else undefined. */
function scalarOf(graph: Graph, prod: Map<string, Node>, name: string): number | undefined {
  const n = prod.get(name);
  const t: Tensor | undefined =
    graph.initializers.get(name) ??
    (n?.opType === "Constant" && n.attrs.value?.kind === "tensor" ? n.attrs.value.value : undefined);
  if (t === undefined || (t.dtype !== "float32" && t.dtype !== "float64") || t.data.length !== 1)
    return undefined;
  return Number(t.data[0]);
}

/** The operand of a binary node other than the constant `c` (when one operand is that constant). */
function otherThan(
  graph: Graph,
  prod: Map<string, Node>,
  n: Node | undefined,
  opType: string,
  c: number,
): string | undefined {
  if (n?.opType !== opType || n.inputs.length !== 2) return undefined;
  const [a, b] = n.inputs as [string, string];
  if (near(scalarOf(graph, prod, b), c)) return a;
  if (near(scalarOf(graph, prod, a), c)) return b;
  return undefined;
}

/** x when `u` is x / sqrt(2) or x * (1 / sqrt(2)). */
function scaledInput(graph: Graph, prod: Map<string, Node>, u: string): [string, Node] | undefined {
  const n = prod.get(u);
  if (n === undefined) return undefined;
  if (n.opType === "Div" && near(scalarOf(graph, prod, n.inputs[1] ?? ""), Math.SQRT2))
    return [n.inputs[0] as string, n];
  const x = otherThan(graph, prod, n, "Mul", Math.SQRT1_2);
  return x === undefined ? undefined : [x, n];
}

/** [x, nodes] when `a` is 1 + erf(x / sqrt 2). */
function onePlusErf(graph: Graph, prod: Map<string, Node>, a: string): [string, Node[]] | undefined {
  const add = prod.get(a);
  const e = otherThan(graph, prod, add, "Add", 1);
  const erf = e === undefined ? undefined : prod.get(e);
  if (erf?.opType !== "Erf") return undefined;
  const s = scaledInput(graph, prod, erf.inputs[0] as string);
  return s === undefined ? undefined : [s[0], [s[1], erf, add as Node]];
}

/** Matches y = Mul(Mul(x, 1 + erf(x/√2)), 0.5) and y = Mul(Mul(x, 0.5), 1 + erf(x/√2)), any operand order. */
function matchAt(graph: Graph, prod: Map<string, Node>, last: Node): GeluMatch | undefined {
  if (last.opType !== "Mul" || last.inputs.length !== 2) return undefined;
  for (const [p, q] of [last.inputs, [...last.inputs].reverse()] as [string, string][]) {
    // torch.onnx: (x * (1 + erf)) * 0.5
    if (near(scalarOf(graph, prod, q), 0.5)) {
      const m = prod.get(p);
      if (m?.opType !== "Mul") continue;
      for (const [x, a] of [m.inputs, [...m.inputs].reverse()] as [string, string][]) {
        const pe = onePlusErf(graph, prod, a);
        if (pe !== undefined && pe[0] === x) return { x, last, inner: [...pe[1], m] };
      }
    }
    // HF: (x * 0.5) * (1 + erf)
    const half = prod.get(p);
    const x = otherThan(graph, prod, half, "Mul", 0.5);
    const pe = x === undefined ? undefined : onePlusErf(graph, prod, q);
    if (pe !== undefined && pe[0] === x) return { x, last, inner: [...pe[1], half as Node] };
  }
  return undefined;
}

/**
 * Every erf-GELU subgraph whose intermediates feed nothing but the subgraph itself (so dropping their
 * primitive rules loses no gradient path), keyed by its last node.
 */
export function findGeluPatterns(graph: Graph): Map<Node, GeluMatch> {
  const prod = producers(graph.nodes);
  const uses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  const found = new Map<Node, GeluMatch>();
  for (const n of graph.nodes) {
    const m = matchAt(graph, prod, n);
    if (m === undefined || n.domain !== "") continue;
    const private_ = m.inner.every((i) => i.domain === "" && i.outputs.every((o) => uses.get(o) === 1));
    if (private_) found.set(n, m);
  }
  return found;
}
