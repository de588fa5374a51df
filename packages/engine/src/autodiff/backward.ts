// The reverse sweep: appends VJP nodes for every node on a path from a `wrt` tensor to a graph output,
// summing fan-out gradients, and returns the name of each wrt tensor's gradient.
import { GraphBuilder } from "../builder/graph-builder.js";
import { UnsupportedGradientError } from "../errors.js";
import { isFloat } from "../ir/dtype.js";
import type { Graph, Node } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { findGeluPatterns } from "./gelu-pattern.js";
import { reachableFrom, reachingTo, topoSort } from "./graph-analysis.js";
import { RuleContext, SharedNodes, type SlicePiece } from "./rule-context.js";
import { GRAD_RULES } from "./rules/index.js";

export interface BackwardRequest {
  readonly graph: Graph;
  readonly opset: number;
  readonly facts: ShapeTable;
  readonly wrt: readonly string[];
  /** Upstream gradient tensor of each differentiable output: output name -> grad input name. */
  readonly seeds: ReadonlyMap<string, string>;
}

/** Appends the backward nodes to `req.graph`; returns wrt name -> gradient tensor name. */
export function appendBackward(req: BackwardRequest): Map<string, string> {
  const { graph, facts } = req;
  const b = new GraphBuilder({ graph, opset: req.opset });
  const shared = new SharedNodes();
  const order = topoSort(graph);
  const floatValue = (name: string): boolean => isFloat(facts.get(name)?.dtype ?? "other");
  const needs = reachableFrom(order, req.wrt, floatValue);
  const reaches = reachingTo(
    order,
    [...req.seeds.keys()].filter((o) => needs.has(o)),
  );
  const parts = new Map<string, string[]>();
  const summed = new Map<string, string>();
  const add = (name: string, g: string): void => {
    const list = parts.get(name) ?? [];
    list.push(g);
    parts.set(name, list);
  };
  const total = (name: string): string | undefined => {
    const done = summed.get(name);
    if (done !== undefined) return done;
    const list = parts.get(name);
    if (list === undefined || list.length === 0) return undefined;
    const g =
      list.length === 1
        ? (list[0] as string)
        : (tiledSlices(b, shared, list, name) ?? b.op("Sum", list, {}, { name: `${name}/grad/accumulate` }));
    summed.set(name, g);
    return g;
  };
  for (const [out, seed] of req.seeds) if (needs.has(out)) add(out, seed);
  const gelus = findGeluPatterns(graph);
  for (let k = order.length - 1; k >= 0; k--) {
    const match = gelus.get(order[k] as Node);
    // An exporter's erf-GELU is differentiated as one Gelu of its input; its inner nodes then get no
    // upstream gradient and are skipped below.
    const node: Node = match
      ? { ...match.last, opType: "Gelu", inputs: [match.x], attrs: {} }
      : (order[k] as Node);
    const mask = node.inputs.map((i) => i !== "" && needs.has(i) && reaches.has(i));
    if (!mask.some(Boolean)) continue;
    const upstream = node.outputs.map((o) => (o === "" ? undefined : total(o)));
    if (upstream.every((g) => g === undefined)) continue;
    const rule = node.domain === "" || node.domain === "ai.onnx" ? GRAD_RULES[node.opType] : undefined;
    if (rule === undefined)
      throw new UnsupportedGradientError(
        node.domain ? `${node.domain}::${node.opType}` : node.opType,
        node.name,
      );
    const grads = rule(new RuleContext(b, node, facts, upstream, mask, shared));
    node.inputs.forEach((input, i) => {
      const g = grads[i];
      if (mask[i] && g !== undefined) add(input, g);
    });
  }
  const result = new Map<string, string>();
  for (const w of req.wrt) {
    const g = total(w) ?? zerosLike(b, shared, w, facts);
    result.set(w, g);
  }
  return result;
}

/**
 * When the parts are the padded gradients of Slices that tile one axis exactly (torch's packed QKV
 * split), their sum is the Concat of the unpadded gradients: one copy instead of n Pads and a Sum.
 */
function tiledSlices(
  b: GraphBuilder,
  shared: SharedNodes,
  parts: string[],
  name: string,
): string | undefined {
  const pieces = parts.map((p) => shared.slicePieces.get(p));
  if (pieces.some((p) => p === undefined)) return undefined;
  const sorted = (pieces as SlicePiece[]).slice().sort((p, q) => p.start - q.start);
  const first = sorted[0] as SlicePiece;
  let at = 0;
  for (const p of sorted) {
    if (p.axis !== first.axis || p.dim !== first.dim || p.start !== at || p.end <= p.start) return undefined;
    at = p.end;
  }
  if (at !== first.dim) return undefined;
  return b.op(
    "Concat",
    sorted.map((p) => p.dy),
    { axis: first.axis },
    { name: `${name}/grad/concat` },
  );
}

function zerosLike(b: GraphBuilder, shared: SharedNodes, w: string, facts: ShapeTable): string {
  const dtype = facts.get(w)?.dtype;
  const value =
    dtype === "float64"
      ? { dtype: "float64" as const, dims: [1], data: new Float64Array(1) }
      : { dtype: "float32" as const, dims: [1], data: new Float32Array(1) };
  return b.op("ConstantOfShape", [shared.shape(b, w)], { value }, { name: `${w}/grad/zeros` });
}
