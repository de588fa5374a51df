// Splits a gradient model G into a forward model that also outputs the activations the backward needs,
// and a backward model that takes them. Nodes that depend on no graph input (weight transposes,
// constants) are duplicated into both so that weights are never shipped as activations.
import { ShapeInferenceError } from "../errors.js";
import type { Graph, Model, Node, ValueInfo } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { inferShapes } from "../shape/infer.js";
import { pruneDead, reachableFrom, topoSort } from "./graph-analysis.js";

export interface SavedActivationsModels {
  /** Inputs: M's inputs and the wrt initializers; outputs: M's outputs, then `saved`. */
  readonly forward: Model;
  /** Inputs: `backwardInputs` (saved activations, graph inputs it reads, grad_<O>); outputs: grad_<w>. */
  readonly backward: Model;
  /** Names of the extra forward outputs (forward tensor names, fed to the backward under the same name). */
  readonly saved: readonly string[];
}

export interface SplitRequest {
  /** Every tensor computed by M's own nodes: only those (and Shape/Size of them) stay in the forward. */
  readonly original: ReadonlySet<string>;
  readonly forwardOutputs: readonly string[];
  readonly gradInputs: readonly string[];
  readonly gradOutputs: readonly string[];
  readonly opset: number;
  readonly facts?: ShapeTable;
}

function subgraph(g: Graph, nodes: Node[], inputs: ValueInfo[], outputs: ValueInfo[]): Graph {
  const graph: Graph = { ...g, nodes, inputs, outputs, initializers: new Map(g.initializers), valueInfo: [] };
  pruneDead(graph);
  return graph;
}

/** Splits G (see gradient-model.ts) into the forward and backward models of the save-activations variant. */
export function splitSaveActivations(g: Model, req: SplitRequest): SavedActivationsModels {
  const graph = g.graph;
  const order = topoSort(graph);
  const gradSet = new Set(req.gradInputs);
  const plainInputs = graph.inputs.filter((i) => !gradSet.has(i.name));
  const backSide = reachableFrom(order, req.gradInputs);
  const inputSide = reachableFrom(
    order,
    plainInputs.map((i) => i.name),
  );
  // Rule nodes that need no upstream gradient (LayerNorm's x-hat, erf' of x, transposed activations)
  // still run in the backward: the forward then saves M's own activations, each once, like autograd
  // does. Shape/Size stay forward so that a tiny shape is saved instead of the tensor it measures.
  const isOriginal = (n: Node): boolean => n.outputs.every((o) => o === "" || req.original.has(o));
  const isBack = (n: Node): boolean =>
    n.outputs.some((o) => backSide.has(o)) ||
    (!isOriginal(n) &&
      n.opType !== "Shape" &&
      n.opType !== "Size" &&
      n.outputs.some((o) => inputSide.has(o)));
  const isFwd = (n: Node): boolean => !isBack(n) && n.outputs.some((o) => inputSide.has(o));
  const backNodes = order.filter(isBack);
  const fwdProduced = new Set(order.filter(isFwd).flatMap((n) => n.outputs));
  const plainNames = new Set(plainInputs.map((i) => i.name));
  const saved: string[] = [];
  const readInputs = new Set<string>();
  for (const n of backNodes) {
    for (const i of n.inputs) {
      if (fwdProduced.has(i) && !saved.includes(i)) saved.push(i);
      if (plainNames.has(i)) readInputs.add(i);
    }
  }
  const facts = inferShapes(graph, req.opset);
  for (const [k, v] of req.facts ?? []) if (facts.get(k)?.shape === undefined) facts.set(k, v);
  const infoOf = (name: string): ValueInfo => {
    const f = facts.get(name);
    if (f === undefined)
      throw new ShapeInferenceError(`cannot type saved activation "${name}" for the backward model`);
    return f.shape === undefined ? { name, dtype: f.dtype } : { name, dtype: f.dtype, shape: f.shape };
  };
  const outByName = new Map(graph.outputs.map((o) => [o.name, o]));
  const fwdOuts = req.forwardOutputs.map((o) => outByName.get(o) ?? infoOf(o));
  const savedOnly = saved.filter((s) => !req.forwardOutputs.includes(s));
  const forwardGraph = subgraph(
    graph,
    order.filter((n) => !isBack(n)),
    plainInputs,
    [...fwdOuts, ...savedOnly.map(infoOf)],
  );
  const gradIns = graph.inputs.filter((i) => gradSet.has(i.name));
  const backIns = [...plainInputs.filter((i) => readInputs.has(i.name)), ...saved.map(infoOf), ...gradIns];
  const backOuts = req.gradOutputs.map((o) => outByName.get(o) ?? infoOf(o));
  const constNodes = order.filter((n) => !isBack(n) && !isFwd(n));
  const backwardGraph = subgraph(graph, [...constNodes, ...backNodes], backIns, backOuts);
  return {
    forward: { ...g, graph: { ...forwardGraph, name: `${graph.name}_forward` } },
    backward: { ...g, graph: { ...backwardGraph, name: `${graph.name}_backward` } },
    saved: savedOnly,
  };
}
