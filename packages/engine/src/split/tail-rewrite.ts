// Rewrites the tail so that it reads one vector per sample [B, D] instead of the last block's token
// sequence: the token selection (CLS Gather or mean over tokens) moves to the end of the body, and the
// token-wise ops before it (the final LayerNorm) then act on that vector, which gives the same result.
import { attrInt } from "../builder/attrs.js";
import type { Graph, Node } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { TailRewriteError } from "./errors.js";
import { consumers, rewireConsumers } from "./graph-edit.js";
import type { Pooling } from "./pooling.js";

export interface TailPlan {
  /** Token-wise nodes between the last block output and the selection, in order. */
  readonly chain: readonly Node[];
  /** The nodes that select the token(s): one Gather or ReduceMean, or a Slice [:, 0:1] and its Squeeze/Reshape. */
  readonly selection: readonly Node[];
  /** The pooling the model itself uses. */
  readonly pooling: Pooling;
}

const ELEMENTWISE = new Set(["Add", "Sub", "Mul", "Div"]);

function isConstantLike(g: Graph, facts: ShapeTable, t: string, producedBy: Map<string, Node>): boolean {
  const rank = facts.get(t)?.shape?.length;
  const p = producedBy.get(t);
  return (g.initializers.has(t) || p?.opType === "Constant") && rank !== undefined && rank <= 1;
}

/** Does `n` act on each token alone (so it commutes with selecting a token)? */
function tokenWise(g: Graph, facts: ShapeTable, n: Node, x: string, producedBy: Map<string, Node>): boolean {
  if (n.opType === "Identity" || n.opType === "Dropout" || n.opType === "Cast") return n.inputs[0] === x;
  if (n.opType === "LayerNormalization") {
    const rank = facts.get(x)?.shape?.length ?? 3;
    const axis = attrInt(n.attrs, "axis", -1);
    return n.inputs[0] === x && (axis === -1 || axis === rank - 1);
  }
  if (ELEMENTWISE.has(n.opType)) {
    const other = n.inputs[0] === x ? n.inputs[1] : n.inputs[0];
    return other !== undefined && other !== x && isConstantLike(g, facts, other, producedBy);
  }
  return false;
}

function selectionKind(n: Node, x: string, facts: ShapeTable, opset: number): Pooling | undefined {
  if (n.inputs[0] !== x) return undefined;
  if (n.opType === "Gather" && attrInt(n.attrs, "axis", 0) === 1) {
    const idx = facts.get(n.inputs[1] ?? "");
    if (idx?.shape?.length === 0 && idx.value?.[0] === 0) return "cls";
  }
  if (n.opType === "ReduceMean" && attrInt(n.attrs, "keepdims", 1) === 0) {
    const axes =
      opset >= 18
        ? facts.get(n.inputs[1] ?? "")?.value
        : (n.attrs["axes"]?.value as readonly number[] | undefined);
    if (axes?.length === 1 && (axes[0] === 1 || axes[0] === -2)) return "mean";
  }
  return undefined;
}

/** x[:, 0:1] followed by a Squeeze/Reshape to rank 2: the CLS token written as a slice. */
function sliceSelection(
  n: Node,
  x: string,
  facts: ShapeTable,
  cons: Map<string, Node[]>,
): Node[] | undefined {
  if (n.opType !== "Slice" || n.inputs[0] !== x) return undefined;
  const v = (i: number): readonly (number | string | null)[] | undefined =>
    facts.get(n.inputs[i] ?? "")?.value;
  const [starts, ends, axes, steps] = [v(1), v(2), v(3), v(4)];
  const axisOk = axes?.length === 1 && (axes[0] === 1 || axes[0] === -2);
  if (!axisOk || starts?.[0] !== 0 || ends?.[0] !== 1 || (steps !== undefined && steps[0] !== 1))
    return undefined;
  const next = cons.get(n.outputs[0] as string) ?? [];
  const squeeze = next[0];
  if (next.length !== 1 || squeeze === undefined) return undefined;
  if (squeeze.opType !== "Squeeze" && squeeze.opType !== "Reshape") return undefined;
  return facts.get(squeeze.outputs[0] as string)?.shape?.length === 2 ? [n, squeeze] : undefined;
}

/** Finds the chain from `lastBlockOut` to the token selection on the way to `logits`. */
export function planTail(
  g: Graph,
  facts: ShapeTable,
  opset: number,
  lastBlockOut: string,
  live: Set<Node>,
): TailPlan {
  const cons = consumers(g.nodes.filter((n) => live.has(n)));
  const producedBy = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const chain: Node[] = [];
  let cur = lastBlockOut;
  for (;;) {
    const next = cons.get(cur) ?? [];
    if (next.length !== 1)
      throw new TailRewriteError(
        `after the last block, tensor "${cur}" is read by ${next.length} nodes on the way to the logits ` +
          `(${next.map((n) => n.name).join(", ") || "none"}); expected one path to a token selection (CLS Gather or mean over axis 1). ` +
          "Cut elsewhere with --cut-tail <tensor>",
      );
    const n = next[0] as Node;
    const kind = selectionKind(n, cur, facts, opset);
    if (kind !== undefined) return { chain, selection: [n], pooling: kind };
    const sliced = sliceSelection(n, cur, facts, cons);
    if (sliced !== undefined) return { chain, selection: sliced, pooling: "cls" };
    if (!tokenWise(g, facts, n, cur, producedBy))
      throw new TailRewriteError(
        `node "${n.name}" (${n.opType}) lies between the last block and the token selection but does not act on each ` +
          "token alone, so the tail cannot read one vector per sample; cut elsewhere with --cut-tail <tensor>",
      );
    chain.push(n);
    cur = n.outputs[0] as string;
  }
}

/** Makes the tail read `pooled` ([B, D]): the chain starts from it and the selection disappears. */
export function rewriteTail(g: Graph, plan: TailPlan, lastBlockOut: string, pooled: string): void {
  const first = plan.chain[0];
  if (first !== undefined) first.inputs = first.inputs.map((i) => (i === lastBlockOut ? pooled : i));
  for (const n of plan.chain) {
    // The vector has rank 2: a LayerNormalization over the last axis must say so with a negative axis.
    if (n.opType === "LayerNormalization") n.attrs = { ...n.attrs, axis: { kind: "int", value: -1 } };
  }
  const last = plan.chain.length > 0 ? ((plan.chain.at(-1) as Node).outputs[0] as string) : pooled;
  const selected = (plan.selection.at(-1) as Node).outputs[0] as string;
  g.nodes = g.nodes.filter((n) => !plan.selection.includes(n));
  rewireConsumers(g, selected, last);
  g.outputs = g.outputs.map((o) => (o.name === selected ? { ...o, name: last } : o));
}

/**
 * True when the model averages tokens after a token-wise op that does not commute with the mean (a
 * final LayerNorm): the chain then stays before the pooling, in the body, frozen.
 */
export function keepsChainBeforeMean(plan: TailPlan): boolean {
  return (
    plan.pooling === "mean" && plan.chain.some((n) => n.opType === "LayerNormalization" || n.opType === "Div")
  );
}

/** Leaves chain + selection in place and names the selected vector `pooled` (the body output). */
export function renameSelection(g: Graph, plan: TailPlan, pooled: string): void {
  const last = plan.selection.at(-1) as Node;
  const selected = last.outputs[0] as string;
  last.outputs = [pooled, ...last.outputs.slice(1)];
  rewireConsumers(g, selected, pooled);
  g.outputs = g.outputs.map((o) => (o.name === selected ? { ...o, name: pooled } : o));
}

/** Appends a copy of chain + selection reading `from` and writing `out` (the local path's pooling). */
export function copySelection(
  g: Graph,
  plan: TailPlan,
  lastBlockOut: string,
  from: string,
  out: string,
): void {
  const nodes = [...plan.chain, ...plan.selection];
  const rename = new Map<string, string>([[lastBlockOut, from]]);
  nodes.forEach((n, k) =>
    n.outputs.forEach((o, i) => {
      if (o !== "") rename.set(o, k === nodes.length - 1 && i === 0 ? out : `${o}/local`);
    }),
  );
  for (const n of nodes) {
    g.nodes.push({
      ...n,
      name: `${n.name}/local`,
      inputs: n.inputs.map((i) => rename.get(i) ?? i),
      outputs: n.outputs.map((o) => rename.get(o) ?? o),
      attrs: { ...n.attrs },
    });
  }
}
