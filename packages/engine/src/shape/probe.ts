// The fallback when static inference leaves a rank unknown: run the model once in ORT with every
// intermediate exposed and read the shapes. Symbolic input dims are fed with distinct small sizes and
// mapped back to their symbols where an output dim equals one of them.
import * as ort from "onnxruntime-node";
import { allocValues, isFloat } from "../ir/dtype.js";
import type { Dim, Model, Tensor, ValueInfo } from "../ir/types.js";
import { createSession, splitOverridableInitializers, toOrtTensor } from "../ort/session.js";
import type { ShapeTable, ValueFacts } from "./facts.js";

const PROBE_SIZES = [3, 5, 7, 11, 13, 17];

function probeFeed(v: ValueInfo, sizes: Map<string, number>): Tensor {
  const dims = (v.shape ?? []).map((d) => {
    if (typeof d === "number") return d;
    const key = d ?? `?${v.name}`;
    if (!sizes.has(key)) sizes.set(key, PROBE_SIZES[sizes.size % PROBE_SIZES.length] as number);
    return sizes.get(key) as number;
  });
  const n = dims.reduce((a, b) => a * b, 1);
  const data = allocValues(v.dtype, n);
  // Small positive floats keep Log/Sqrt/Div finite; zero ids and masks are valid indices.
  if (isFloat(v.dtype) && data instanceof Float32Array) data.fill(0.5);
  if (isFloat(v.dtype) && data instanceof Float64Array) data.fill(0.5);
  return { dtype: v.dtype, dims, data };
}

/** Learns the dtype and shape of `names` (default: every node output) by running the model once. */
export async function probeShapes(
  model: Model,
  names?: readonly string[],
  table: ShapeTable = new Map(),
): Promise<ShapeTable> {
  const g = model.graph;
  const wanted = new Set(names ?? g.nodes.flatMap((n) => n.outputs).filter((o) => o !== ""));
  const known = new Set(g.outputs.map((o) => o.name));
  const extra: ValueInfo[] = [...wanted]
    .filter((n) => !known.has(n))
    .map((name) => ({ name, dtype: "other" }));
  const exposed = splitOverridableInitializers({
    ...model,
    graph: { ...g, outputs: [...g.outputs, ...extra], valueInfo: [] },
  }).model;
  const sizes = new Map<string, number>();
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of exposed.graph.inputs) {
    const init = g.initializers.get(v.name);
    feeds[v.name] = toOrtTensor(init ?? probeFeed(v, sizes));
  }
  // createSession: a model past 1 GiB of weights opens through a temporary external data file (one
  // ModelProto cannot pass 2 GiB); 0 threads is ORT's default
  const session = await createSession(exposed, { intraOpNumThreads: 0, interOpNumThreads: 0 });
  try {
    const out = await session.run(feeds);
    const back = new Map([...sizes].filter(([k]) => !k.startsWith("?")).map(([k, v]) => [v, k]));
    const result: ShapeTable = new Map(table);
    for (const name of wanted) {
      const t = out[name];
      if (t === undefined) continue;
      const shape: Dim[] = t.dims.map((d) => back.get(d) ?? d);
      const facts: ValueFacts = { dtype: t.type as Tensor["dtype"], shape };
      result.set(name, facts);
    }
    return result;
  } finally {
    await session.release();
  }
}
