// Splits a gradient model G into a forward model that also outputs the activations the backward needs,
// and a backward model that takes them. Nodes that depend on no graph input (weight transposes,
// constants) are duplicated into both so that weights are never shipped as activations.
import { ShapeInferenceError } from "../errors.js";
import type { Graph, Model, Node, ValueInfo } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { inferShapes } from "../shape/infer.js";
import { producers, pruneDead, reachableFrom, topoSort } from "./graph-analysis.js";

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
  let saved: string[] = [];
  const readInputs = new Set<string>();
  for (const n of backNodes) {
    for (const i of n.inputs) {
      if (fwdProduced.has(i) && !saved.includes(i)) saved.push(i);
      if (plainNames.has(i)) readInputs.add(i);
    }
  }
  const views = rematerializeViews(saved, {
    prod: producers(order.filter(isFwd)),
    fwdProduced,
    plainNames,
    inputSide,
    keep: new Set(req.forwardOutputs),
  });
  saved = views.saved;
  for (const i of views.readInputs) readInputs.add(i);
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
  const backwardGraph = subgraph(graph, [...constNodes, ...views.nodes, ...backNodes], backIns, backOuts);
  return {
    forward: { ...g, graph: { ...forwardGraph, name: `${graph.name}_forward` } },
    backward: { ...g, graph: { ...backwardGraph, name: `${graph.name}_backward` } },
    saved: savedOnly,
  };
}

/** Ops that only move or relabel elements (the same bytes come out as go in). */
const VIEW_OPS = new Set(["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity"]);
/** Ops that ORT folds into a neighbouring MatMul when the other operand is a constant scalar. */
const SCALE_OPS = new Set(["Mul", "Div"]);

interface ViewContext {
  readonly prod: ReadonlyMap<string, Node>;
  readonly fwdProduced: ReadonlySet<string>;
  readonly plainNames: ReadonlySet<string>;
  /** Values that depend on a graph input (the rest are constants). */
  readonly inputSide: ReadonlySet<string>;
  /** Forward outputs: returned anyway, so saving them costs nothing. */
  readonly keep: ReadonlySet<string>;
}

/** The tensor a view/scale node carries through, when its other inputs are constants or int shapes. */
function carried(n: Node, c: ViewContext): string | undefined {
  if (VIEW_OPS.has(n.opType)) return n.inputs[0];
  if (!SCALE_OPS.has(n.opType) || n.inputs.length !== 2) return undefined;
  const [a, b] = n.inputs as [string, string];
  if (!c.inputSide.has(b)) return a;
  if (n.opType === "Mul" && !c.inputSide.has(a)) return b;
  return undefined;
}

/**
 * A saved tensor made by a chain of views and constant scalings of another forward tensor (torch's
 * per-head Q/K/V: Slice -> Reshape -> Transpose (-> Div by sqrt d)) is saved as that tensor and the
 * chain re-run in the backward: the same bytes travel, but the forward no longer materialises the
 * chain just to return it, so ORT can fold it into the attention MatMuls on both sides.
 */
function rematerializeViews(
  saved: readonly string[],
  c: ViewContext,
): { saved: string[]; nodes: Node[]; readInputs: string[] } {
  const out: string[] = [];
  const nodes: Node[] = [];
  const readInputs: string[] = [];
  const add = (name: string): void => {
    if (c.plainNames.has(name)) readInputs.push(name);
    else if (!out.includes(name)) out.push(name);
  };
  for (const s of saved) {
    let t = s;
    let n = c.keep.has(s) ? undefined : c.prod.get(s);
    while (n !== undefined) {
      const data = carried(n, c);
      if (data === undefined || !(c.fwdProduced.has(data) || c.plainNames.has(data))) break;
      if (!nodes.includes(n)) nodes.push(n);
      // shape/axes inputs computed from the input's shape are small int tensors: save them too
      for (const i of n.inputs) if (i !== data && i !== "" && c.fwdProduced.has(i)) add(i);
      t = data;
      n = c.keep.has(t) || c.plainNames.has(t) ? undefined : c.prod.get(t);
    }
    add(t);
  }
  return { saved: out, nodes, readInputs };
}
