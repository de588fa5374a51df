// Thin helpers over onnxruntime-node: sessions from IR models, feeds from IR tensors, explicit release.
import * as ort from "onnxruntime-node";
import type { Model, Tensor } from "../ir/types.js";
import { encodeModel } from "../onnx/model-io.js";

export type OrtTensor = ort.Tensor;

export interface SessionOptions {
  readonly intraOpNumThreads?: number;
  readonly graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
}

/** Creates an inference session from an IR model (encoded in memory) or an ONNX file path. */
export async function createSession(
  model: Model | string,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const opts: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    // Trainable initializers are graph inputs on purpose; ORT warns about each one at level 2.
    logSeverityLevel: 3,
  };
  if (typeof model === "string") return ort.InferenceSession.create(model, opts);
  return ort.InferenceSession.create(encodeModel(model), opts);
}

/** Wraps an IR tensor as an ORT tensor (no copy). */
export function toOrtTensor(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims]);
}

/** Runs a model once on the given feeds and returns every output, releasing the session afterwards. */
export async function runOnce(
  model: Model | string,
  feeds: Record<string, Tensor>,
  options: SessionOptions = {},
): Promise<Record<string, Tensor>> {
  const session = await createSession(model, options);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v);
    const out = await session.run(ortFeeds);
    const result: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(out)) {
      result[k] = { dtype: v.type as Tensor["dtype"], dims: [...v.dims], data: v.data as Tensor["data"] };
    }
    return result;
  } finally {
    await session.release();
  }
}
