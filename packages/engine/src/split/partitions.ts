// Cutting the prepared (prompted, pooled) graph into its partitions: the trainable tail weights, the
// head/body/tail extraction, the local path head -> pooling -> tail, and the check that each trainable
// parameter lives in exactly one partition.
import { topoSort } from "../autodiff/graph-analysis.js";
import { cloneGraph } from "../ir/clone-graph.js";
import { isFloat } from "../ir/dtype.js";
import type { DType, Graph, Model } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { inferShapes } from "../shape/infer.js";
import { CutTensorError } from "./errors.js";
import { extractPartition, rewireConsumers } from "./graph-edit.js";
import { appendPooling, type Pooling } from "./pooling.js";
import { LOCAL_POOLED, POOLED, type SplitModel } from "./split-types.js";
import { copySelection, type TailPlan } from "./tail-rewrite.js";

/** Float weights (rank ≥ 1) that only the tail reads: the final norm, a pooler, the classifier. */
export function tailParameters(g: Graph, facts: ShapeTable): string[] {
  const outputs = g.outputs.map((o) => o.name);
  const tail = extractPartition(g, { name: "tail", outputs, stops: [POOLED], facts });
  const rest = extractPartition(g, { name: "rest", outputs: [POOLED], stops: [], facts });
  const usedElsewhere = new Set(rest.nodes.flatMap((n) => n.inputs));
  return [...tail.initializers.entries()]
    .filter(([name, t]) => isFloat(t.dtype) && t.dims.length >= 1 && !usedElsewhere.has(name))
    .map(([name]) => name);
}

export interface LocalRequest {
  readonly opset: number;
  readonly headOutput: string;
  readonly pooling: Pooling;
  readonly dtype: DType;
  readonly logits: string;
  readonly mask?: string;
  /** The model's own chain + mean, kept before the pooling: the local path copies it. */
  readonly kept?: { readonly plan: TailPlan; readonly from: string };
}

/** head -> pooling of the head output -> tail, in one model (the body's nodes drop out as dead). */
export function localPath(model: Model, g: Graph, req: LocalRequest): Model {
  const lg = cloneGraph(g);
  rewireConsumers(lg, POOLED, LOCAL_POOLED);
  if (req.kept !== undefined) copySelection(lg, req.kept.plan, req.kept.from, req.headOutput, LOCAL_POOLED);
  else
    appendPooling(lg, req.opset, {
      x: req.headOutput,
      out: LOCAL_POOLED,
      mode: req.pooling,
      dtype: req.dtype,
      ...(req.mask ? { mask: req.mask } : {}),
    });
  lg.nodes = topoSort(lg);
  const facts = inferShapes(lg, req.opset);
  return {
    ...model,
    graph: extractPartition(lg, { name: "local", outputs: [req.logits], stops: [], facts }),
  };
}

/** The server sees the head output and masks, never the raw data the embeddings are computed from. */
export function checkBodyInputs(body: Model, dataInputs: ReadonlySet<string>): void {
  const raw = body.graph.inputs.find((i) => dataInputs.has(i.name));
  if (raw !== undefined)
    throw new CutTensorError(
      raw.name,
      `the body would read the model input "${raw.name}" (the raw data, e.g. for a shape computation), which must stay ` +
        "on the client; cut elsewhere with --cut-head/--cut-tail, or export the model so that its blocks take shapes from their own inputs",
    );
}

/** A trainable parameter must live in exactly the partition the manifest names. */
export function checkPartitionParams(s: Pick<SplitModel, "head" | "body" | "tail" | "parameters">): void {
  const reads = (m: Model, name: string): boolean => m.graph.inputs.some((i) => i.name === name);
  for (const p of s.parameters) {
    const owner = p.partition === "head" ? s.head : s.tail;
    const others = [s.head, s.body, s.tail].filter((m) => m !== owner);
    if (!reads(owner, p.name) || others.some((m) => reads(m, p.name)))
      throw new CutTensorError(
        p.name,
        `the trainable parameter "${p.name}" is not read by the ${p.partition} alone; the cuts do not separate the partitions — move --cut-head/--cut-tail`,
      );
  }
}
