// Rewrites the tail so that it reads one vector per sample [B, D] instead of the last block's token
// sequence: the token selection moves to the end of the body, and the token-wise region before it
// (the final LayerNorm) then acts on that vector, which gives the same values for a selected token.
import { i64s } from "../ir/tensor.js";
import type { Graph, Node } from "../ir/types.js";
import { rewireConsumers } from "./graph-edit.js";
import type { TailPlan } from "./tail-plan.js";

export { planTail, type TailPlan } from "./tail-plan.js";

const AFFINE = new Set(["Identity", "Dropout", "Cast", "Add", "Sub", "Mul"]);

/** Makes `n` work on the last axis counted from the end, so that it does the same on [B, D]. */
function lastAxisFromEnd(g: Graph, n: Node, opset: number): void {
  if (n.opType === "LayerNormalization") n.attrs = { ...n.attrs, axis: { kind: "int", value: -1 } };
  if (!n.opType.startsWith("Reduce")) return;
  if (opset < 18) n.attrs = { ...n.attrs, axes: { kind: "ints", value: [-1] } };
  else {
    const axes = `${n.name}/last_axis`;
    g.initializers.set(axes, i64s([-1]));
    n.inputs = [n.inputs[0] as string, axes, ...n.inputs.slice(2)];
  }
}

/** Makes the tail read `pooled` ([B, D]): the region starts from it and the selection disappears. */
export function rewriteTail(
  g: Graph,
  plan: TailPlan,
  lastBlockOut: string,
  pooled: string,
  opset: number,
): void {
  for (const n of plan.chain) {
    n.inputs = n.inputs.map((i) => (i === lastBlockOut ? pooled : i));
    lastAxisFromEnd(g, n, opset);
  }
  const input = plan.selection[0]?.inputs[0] as string;
  const from = input === lastBlockOut ? pooled : input;
  const selected = (plan.selection.at(-1) as Node).outputs[0] as string;
  g.nodes = g.nodes.filter((n) => !plan.selection.includes(n));
  rewireConsumers(g, selected, from);
  g.outputs = g.outputs.map((o) => (o.name === selected ? { ...o, name: from } : o));
}

/**
 * True when the model averages tokens after a token-wise op that does not commute with the mean (a
 * final LayerNorm): the region then stays before the pooling, in the body, frozen.
 */
export function keepsChainBeforeMean(plan: TailPlan): boolean {
  return plan.pooling === "mean" && plan.chain.some((n) => !AFFINE.has(n.opType));
}

/** Leaves region + selection in place and names the selected vector `pooled` (the body output). */
export function renameSelection(g: Graph, plan: TailPlan, pooled: string): void {
  const last = plan.selection.at(-1) as Node;
  const selected = last.outputs[0] as string;
  last.outputs = [pooled, ...last.outputs.slice(1)];
  rewireConsumers(g, selected, pooled);
  g.outputs = g.outputs.map((o) => (o.name === selected ? { ...o, name: pooled } : o));
}

/** Appends a copy of region + selection reading `from` and writing `out` (the local path's pooling). */
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
