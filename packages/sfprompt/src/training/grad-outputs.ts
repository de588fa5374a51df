// Bridges the engine's gradient models to the optimizers: their outputs `grad_<param>` become a
// ParamSet laid out like the trained parameters, and parameters become `<name>` → {data, dims} feeds.
import { ParamSetMismatchError, TensorShapeError } from "./errors.js";
import type { ParamSet } from "./param-set.js";

/** The part of an onnxruntime Tensor this module reads (structural, so no ORT import is needed). */
export interface TensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The prefix the engine's gradient models put before a parameter's name. */
export const GRAD_PREFIX = "grad_";

/**
 * Collects `grad_<name>` for every parameter of `layout` from session outputs, checking presence,
 * dtype and shape. The result shares the outputs' buffers (no copy).
 */
export function gradsFromOutputs(
  outputs: Readonly<Record<string, TensorLike | undefined>>,
  layout: ParamSet,
  prefix = GRAD_PREFIX,
): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, t] of layout) {
    const key = `${prefix}${name}`;
    const g = outputs[key];
    if (!g) {
      const have = Object.keys(outputs).filter((k) => k.startsWith(prefix));
      throw new ParamSetMismatchError(
        `gradient output '${key}' is missing (have: ${have.join(", ") || "none"}): regenerate the gradient model with '${name}' in wrt`,
        name,
      );
    }
    if (!(g.data instanceof Float32Array)) {
      throw new TensorShapeError(
        `gradient output '${key}' is not float32: the trained parameters must be float32`,
      );
    }
    if (g.dims.length !== t.shape.length || g.dims.some((d, i) => d !== t.shape[i])) {
      throw new ParamSetMismatchError(
        `gradient output '${key}' has shape [${g.dims.join(", ")}] but parameter '${name}' is [${t.shape.join(", ")}]`,
        name,
      );
    }
    out.set(name, { data: g.data, shape: [...t.shape] });
  }
  return out;
}

/** Parameters as session feeds: name → {data, dims}; wrap each in an ORT Tensor at the call site. */
export function paramFeeds(
  params: ParamSet,
): Record<string, { data: Float32Array; dims: readonly number[] }> {
  const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const [name, t] of params) feeds[name] = { data: t.data, dims: t.shape };
  return feeds;
}
