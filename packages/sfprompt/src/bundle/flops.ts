// FLOPs of one sample through each graph of a bundle, from shape inference with the batch set to 1:
// the numbers behind the client-compute share of the reports.
import {
  defaultOpset,
  inferShapes,
  numel,
  shapeValueKept,
  type Dim,
  type Model,
  type ModelOutline,
  type ValueInfo,
} from "@sfprompt/engine";
import { graphFlops, type OpShapes } from "../training/flops.js";
import type { PartitionBundle } from "./partition-bundle.js";

/** Per-sample FLOPs of the graphs a client or the server runs. */
export interface BundleFlops {
  readonly headForward: number;
  readonly headBackward: number;
  readonly bodyForward: number;
  readonly bodyBackward: number;
  readonly tailStep: number;
  readonly tailForward: number;
  readonly localForward: number;
  readonly localStep: number;
  /** head + body + tail forward: the whole model, the share's denominator. */
  readonly wholeForward: number;
}

/** A symbolic dimension ("sequence", "sequence+10") with its names bound; unbound ones stay symbolic. */
export function bindDim(d: Dim, bindings: Readonly<Record<string, number>>): Dim {
  if (typeof d !== "string") return d;
  const m = /^([A-Za-z_][\w.]*)\s*([+-])\s*(\d+)$/.exec(d);
  if (m === null) return bindings[d] ?? d;
  const base = bindings[m[1]!];
  if (base === undefined) return d;
  return m[2] === "+" ? base + Number(m[3]) : base - Number(m[3]);
}

/**
 * FLOPs of one sample through `model`: symbolic leading dimensions of the inputs set to 1, other
 * symbolic dimensions (a text model's "sequence") from `bindings`.
 */
export function perSampleFlops(
  read: Model | ModelOutline,
  bindings: Readonly<Record<string, number>> = {},
): number {
  const model = "model" in read ? read.model : read;
  const g = model.graph;
  // an outline's initializers without values count by dtype and shape, as inferShapes counts a weight
  const stored = "model" in read ? read.initializers : g.initializers;
  const weightless = (name: string): ValueInfo | undefined => {
    const t = g.initializers.has(name) ? undefined : stored.get(name);
    return t === undefined ? undefined : { name, dtype: t.dtype, shape: [...t.dims] };
  };
  const inputs = g.inputs.map(
    (i): ValueInfo =>
      weightless(i.name) ??
      (i.shape === undefined || stored.has(i.name)
        ? i
        : {
            ...i,
            shape: i.shape.map((d, k) => (k === 0 && typeof d !== "number" ? 1 : bindDim(d, bindings))),
          }),
  );
  const declared = new Set(g.inputs.map((i) => i.name));
  for (const name of stored.keys()) {
    const w = declared.has(name) ? undefined : weightless(name);
    if (w !== undefined) inputs.push(w);
  }
  const facts = inferShapes({ ...g, inputs, valueInfo: [] }, defaultOpset(model));
  const shape = (name: string): number[] | undefined => {
    const s = facts.get(name)?.shape;
    return s !== undefined && s.every((d): d is number => typeof d === "number") ? [...s] : undefined;
  };
  const nodes: OpShapes[] = [];
  for (const n of g.nodes) {
    const outputs = n.outputs.map(shape);
    if (outputs.some((o) => o === undefined)) continue; // a shape-only node with unknown shape: no float work
    const attributes: Record<string, unknown> = {};
    for (const [k, a] of Object.entries(n.attrs ?? {})) attributes[k] = (a as { value?: unknown }).value ?? a;
    nodes.push({
      opType: n.opType,
      inputs: n.inputs.map((i) => (i === "" ? undefined : shape(i))),
      outputs: outputs as number[][],
      attributes,
    });
  }
  return graphFlops(nodes).total;
}

/**
 * Per-sample FLOPs of one graph file of the bundle, read without its weights (readModelOutline: shapes
 * need only the small int initializers' values).
 */
export function graphFileFlops(
  bundle: PartitionBundle,
  file: string,
  bindings: Readonly<Record<string, number>> = bundle.symbolicDims(),
): number {
  return perSampleFlops(
    bundle.pool.readModelOutline(file, (_, t) => shapeValueKept(t.dtype, numel(t.dims))),
    bindings,
  );
}

/** Per-sample FLOPs of every graph of the bundle (a text model's at its configured sequence length). */
export function bundleFlops(bundle: PartitionBundle): BundleFlops {
  const m = bundle.manifest;
  const bindings = bundle.symbolicDims();
  const f = (file: string): number => graphFileFlops(bundle, file, bindings);
  const part = (name: string): string => m.partitions.find((p) => p.name === name)!.file;
  const headForward = f(part("head"));
  const bodyForward = f(part("body"));
  const tailForward = f(part("tail"));
  return {
    headForward,
    headBackward: m.gradients.head === null ? 0 : f(m.gradients.head.file),
    bodyForward,
    bodyBackward: f(m.gradients.body.recompute.file),
    tailStep: f(m.gradients.tail.file),
    tailForward,
    localForward: f(m.local.file),
    localStep: f(m.gradients.local.file),
    wholeForward: headForward + bodyForward + tailForward,
  };
}
