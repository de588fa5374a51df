// Shape inference over an IR graph: dtype and (symbolic) shape of every value, plus the values of
// small integer tensors. Values no rule covers are left with an unknown rank (see probe.ts).
import { attrInt } from "../builder/attrs.js";
import type { Dim, Graph, Node, Tensor } from "../ir/types.js";
import { SHAPE_RULES } from "./op-rules.js";
import { VALUE_RULES } from "./value-rules.js";
import type { ShapeTable, ValueFacts } from "./facts.js";

const MAX_VALUE_ELEMENTS = 64;

/** Facts about a constant tensor (values kept when it is a small integer tensor). */
/**
 * Whether shape inference keeps the values of a tensor of this dtype and element count (small int
 * tensors: shapes, axes); of any other only its dtype and shape count.
 */
export function shapeValueKept(dtype: Tensor["dtype"], elements: number): boolean {
  return (dtype === "int64" || dtype === "int32") && elements <= MAX_VALUE_ELEMENTS;
}

export function tensorFacts(t: Tensor): ValueFacts {
  const small = shapeValueKept(t.dtype, t.data.length);
  if (!small) return { dtype: t.dtype, shape: t.dims };
  return {
    dtype: t.dtype,
    shape: t.dims,
    value: Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v)),
  };
}

function constantFacts(node: Node): ValueFacts | undefined {
  const a = Object.values(node.attrs)[0];
  if (a === undefined) return undefined;
  switch (a.kind) {
    case "tensor":
      return tensorFacts(a.value);
    case "int":
      return { dtype: "int64", shape: [], value: [a.value] };
    case "ints":
      return { dtype: "int64", shape: [a.value.length], value: [...a.value] };
    case "float":
      return { dtype: "float32", shape: [] };
    case "floats":
      return { dtype: "float32", shape: [a.value.length] };
    default:
      return undefined;
  }
}

/** Infers facts for one node's outputs from its inputs' facts. */
export function inferNode(node: Node, table: ShapeTable, opset: number): (ValueFacts | undefined)[] {
  if (node.opType === "Constant" && node.domain === "") return [constantFacts(node)];
  const ins = node.inputs.map((n) => (n === "" ? undefined : table.get(n)));
  const ctx = { node, ins, opset };
  const rule = node.domain === "" || node.domain === "ai.onnx" ? SHAPE_RULES[node.opType] : undefined;
  let outs: (ValueFacts | undefined)[];
  try {
    outs = rule ? rule(ctx) : [];
  } catch {
    outs = [];
  }
  const vrule = VALUE_RULES[node.opType];
  const first = outs[0];
  if (vrule && first && (first.dtype === "int64" || first.dtype === "int32" || first.dtype === "bool")) {
    const value = vrule(ctx);
    if (value !== undefined && value.length <= MAX_VALUE_ELEMENTS) {
      const shape = first.shape ?? [value.length];
      outs[0] = { ...first, shape, value };
    }
  }
  return outs;
}

/** Infers dtype/shape facts for every value of the graph (inputs, initializers, node outputs). */
export function inferShapes(graph: Graph, opset: number): ShapeTable {
  const table: ShapeTable = new Map();
  for (const [name, t] of graph.initializers) table.set(name, tensorFacts(t));
  for (const v of graph.inputs) {
    if (!graph.initializers.has(v.name))
      table.set(v.name, v.shape === undefined ? { dtype: v.dtype } : { dtype: v.dtype, shape: v.shape });
  }
  const declared = new Map<string, ValueFacts>();
  for (const v of [...graph.valueInfo, ...graph.outputs]) {
    if (v.shape !== undefined && v.dtype !== "other")
      declared.set(v.name, { dtype: v.dtype, shape: v.shape });
  }
  for (const node of graph.nodes) {
    const outs = inferNode(node, table, opset);
    node.outputs.forEach((o, i) => {
      if (o === "") return;
      const f = mergeDeclared(outs[i], declared.get(o));
      if (f !== undefined) table.set(o, f);
    });
  }
  return table;
}

function mergeDeclared(
  inferred: ValueFacts | undefined,
  declared: ValueFacts | undefined,
): ValueFacts | undefined {
  if (inferred === undefined) return declared;
  if (declared === undefined || declared.shape === undefined) return inferred;
  if (inferred.shape === undefined || inferred.shape.length !== declared.shape.length)
    return { ...inferred, shape: declared.shape };
  const shape: Dim[] = inferred.shape.map((d, i) => (d === null ? (declared.shape?.[i] ?? null) : d));
  return { ...inferred, shape };
}

/** Reads the `axis` attribute of a node normalised for its first input's rank. */
export function axisOf(node: Node, table: ShapeTable, dflt: number): number {
  const rank = table.get(node.inputs[0] ?? "")?.shape?.length ?? 0;
  const a = attrInt(node.attrs, "axis", dflt);
  return a < 0 ? a + rank : a;
}
