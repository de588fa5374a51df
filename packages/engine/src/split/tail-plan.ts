// Plans the tail rewrite: finds the token selection between the last block and the logits (a CLS
// Gather, a Slice [:, 0:1] + Squeeze, or a mean over tokens) and the token-wise region before it (a
// final LayerNorm, fused or decomposed into ReduceMean/Sub/Pow/Sqrt/Div as opset-14 exports write it).
import { reachingTo, topoSort } from "../autodiff/graph-analysis.js";
import { attrInt, attrInts } from "../builder/attrs.js";
import type { Dim, Graph, Node } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { TailRewriteError } from "./errors.js";
import { consumers } from "./graph-edit.js";
import type { Pooling } from "./pooling.js";

export interface TailPlan {
  /** Token-wise nodes between the last block output and the selection, in topological order. */
  readonly chain: readonly Node[];
  /** The nodes that select the token(s): a Gather or ReduceMean, or a Slice [:, 0:1] and its Squeeze/Reshape. */
  readonly selection: readonly Node[];
  /** The pooling the model itself uses. */
  readonly pooling: Pooling;
}

const UNARY = new Set([
  "Identity",
  "Dropout",
  "Cast",
  "Sqrt",
  "Erf",
  "Tanh",
  "Relu",
  "Sigmoid",
  "Exp",
  "Neg",
  "Abs",
]);
const BINARY = new Set(["Add", "Sub", "Mul", "Div", "Pow"]);
const REDUCE = new Set(["ReduceMean", "ReduceSum", "ReduceMax"]);

interface Scope {
  readonly g: Graph;
  readonly facts: ShapeTable;
  readonly opset: number;
  readonly rank: number;
  /** Tensors derived from the last block output (it included). */
  readonly region: ReadonlySet<string>;
  readonly producedBy: ReadonlyMap<string, Node>;
}

/** Constant operand that broadcasts over tokens: an initializer or Constant of rank ≤ 1. */
function perFeatureConstant(s: Scope, t: string): boolean {
  const rank = s.facts.get(t)?.shape?.length;
  const constant = s.g.initializers.has(t) || s.producedBy.get(t)?.opType === "Constant";
  return constant && rank !== undefined && rank <= 1;
}

/** The axes of a Reduce node (attribute before opset 18, input after). */
export function reduceAxes(n: Node, facts: ShapeTable, opset: number): readonly Dim[] | undefined {
  return opset >= 18 ? facts.get(n.inputs[1] ?? "")?.value : attrInts(n.attrs, "axes");
}

const isLast = (axis: Dim | undefined, rank: number): boolean => axis === -1 || axis === rank - 1;

/** Does `n` act on each token alone, so that it commutes with selecting one token? */
function tokenWise(s: Scope, n: Node): boolean {
  const fromRegion = (t: string): boolean => s.region.has(t);
  if (UNARY.has(n.opType)) return fromRegion(n.inputs[0] ?? "");
  if (BINARY.has(n.opType)) {
    const [a, b] = [n.inputs[0] ?? "", n.inputs[1] ?? ""];
    return (fromRegion(a) || perFeatureConstant(s, a)) && (fromRegion(b) || perFeatureConstant(s, b));
  }
  if (n.opType === "LayerNormalization") return isLast(attrInt(n.attrs, "axis", -1), s.rank);
  if (REDUCE.has(n.opType)) {
    const axes = reduceAxes(n, s.facts, s.opset);
    return attrInt(n.attrs, "keepdims", 1) === 1 && axes?.length === 1 && isLast(axes[0], s.rank);
  }
  return false;
}

function meanOverTokens(s: Scope, n: Node): boolean {
  if (n.opType !== "ReduceMean" || attrInt(n.attrs, "keepdims", 1) !== 0) return false;
  const axes = reduceAxes(n, s.facts, s.opset);
  return axes?.length === 1 && (axes[0] === 1 || axes[0] === 1 - s.rank);
}

function clsGather(s: Scope, n: Node): boolean {
  if (n.opType !== "Gather" || attrInt(n.attrs, "axis", 0) !== 1) return false;
  const idx = s.facts.get(n.inputs[1] ?? "");
  return idx?.shape?.length === 0 && idx.value?.[0] === 0;
}

/** x[:, 0:1] followed by a Squeeze/Reshape to rank 2: the CLS token written as a slice. */
function clsSlice(s: Scope, n: Node, cons: ReadonlyMap<string, Node[]>): Node[] | undefined {
  if (n.opType !== "Slice") return undefined;
  const v = (i: number): readonly Dim[] | undefined => s.facts.get(n.inputs[i] ?? "")?.value;
  const [starts, ends, axes, steps] = [v(1), v(2), v(3), v(4)];
  const axisOk = axes?.length === 1 && (axes[0] === 1 || axes[0] === 1 - s.rank);
  if (!axisOk || starts?.[0] !== 0 || ends?.[0] !== 1 || (steps !== undefined && steps[0] !== 1))
    return undefined;
  const next = cons.get(n.outputs[0] as string) ?? [];
  const squeeze = next[0];
  if (next.length !== 1 || squeeze === undefined) return undefined;
  if (squeeze.opType !== "Squeeze" && squeeze.opType !== "Reshape") return undefined;
  return s.facts.get(squeeze.outputs[0] as string)?.shape?.length === 2 ? [n, squeeze] : undefined;
}

function selectionAt(
  s: Scope,
  n: Node,
  cons: ReadonlyMap<string, Node[]>,
): { nodes: Node[]; pooling: Pooling } | undefined {
  if (!s.region.has(n.inputs[0] ?? "")) return undefined;
  if (clsGather(s, n)) return { nodes: [n], pooling: "cls" };
  if (meanOverTokens(s, n)) return { nodes: [n], pooling: "mean" };
  const sliced = clsSlice(s, n, cons);
  return sliced === undefined ? undefined : { nodes: sliced, pooling: "cls" };
}

function suggest(detail: string): TailRewriteError {
  return new TailRewriteError(
    `${detail}; the tail must select one token (CLS Gather or Slice) or average the tokens, after token-wise ops only. ` +
      "Cut elsewhere with --cut-tail <tensor>",
    { option: "cutTail" },
  );
}

/** Finds the selection and the token-wise region between `lastBlockOut` and it, on the way to the logits. */
export function planTail(
  g: Graph,
  facts: ShapeTable,
  opset: number,
  lastBlockOut: string,
  live: ReadonlySet<Node>,
): TailPlan {
  const order = topoSort(g).filter((n) => live.has(n));
  const cons = consumers(order);
  const region = new Set([lastBlockOut]);
  const producedBy = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const s: Scope = { g, facts, opset, rank: facts.get(lastBlockOut)?.shape?.length ?? 3, region, producedBy };
  let selection: { nodes: Node[]; pooling: Pooling } | undefined;
  const touched: Node[] = [];
  for (const n of order) {
    if (!n.inputs.some((i) => region.has(i)) || selection?.nodes.includes(n)) continue;
    const sel = selectionAt(s, n, cons);
    if (sel !== undefined) {
      if (selection !== undefined)
        throw suggest(`the tail selects tokens twice ("${selection.nodes[0]?.name}" and "${n.name}")`);
      selection = sel;
      continue;
    }
    touched.push(n);
    for (const o of n.outputs) if (o !== "") region.add(o);
  }
  if (selection === undefined)
    throw suggest(`no token selection reads the last block output "${lastBlockOut}"`);
  const before = reachingTo(order, [selection.nodes[0]?.inputs[0] as string]);
  const chain = touched.filter((n) => n.outputs.some((o) => before.has(o)));
  const stray = touched.find((n) => !chain.includes(n));
  if (stray !== undefined)
    throw suggest(`node "${stray.name}" (${stray.opType}) reads the token sequence besides the selection`);
  const bad = chain.find((n) => !tokenWise(s, n));
  if (bad !== undefined)
    throw suggest(
      `node "${bad.name}" (${bad.opType}) lies between the last block and the token selection but does not act on each token alone`,
    );
  return { chain, selection: selection.nodes, pooling: selection.pooling };
}
