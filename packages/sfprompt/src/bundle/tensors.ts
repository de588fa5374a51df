// Conversions between the runtime's arrays (ParamSet, dataset batches, frame tensors) and the
// engine's IR tensors that sessions take and return.
import type { Tensor } from "@sfprompt/engine";
import type { ParamSet } from "../training/param-set.js";
import { BundleError } from "../runtime/errors.js";

/**
 * What a caller that knows no job can say of a bundle it cannot use (SessionConfig.bundleFix's
 * default): the flags prepare needs are the job's (model file and split), which it does not have.
 */
export const PREPARE_AGAIN =
  "prepare it again with sfprompt prepare (the job's model file and split as flags: sfprompt prepare --help)";

/** A float32 tensor over `data` (no copy). */
export function f32Tensor(data: Float32Array, dims: readonly number[]): Tensor {
  return { dtype: "float32", dims: [...dims], data };
}

/** Class labels as the int64 [B] tensor the loss graphs take. */
export function labelsTensor(labels: Int32Array): Tensor {
  return { dtype: "int64", dims: [labels.length], data: BigInt64Array.from(labels, (y) => BigInt(y)) };
}

/** Parameters as feeds by name. */
export function paramTensors(params: ParamSet): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of params) out[name] = f32Tensor(t.data, t.shape);
  return out;
}

/**
 * The float32 output `name` of a session run, or a BundleError naming the graph and what to do
 * (`fix`: the bundle's SessionConfig.bundleFix).
 */
export function floatOutput(
  outputs: Record<string, Tensor>,
  name: string,
  graph: string,
  fix = PREPARE_AGAIN,
): Tensor & { data: Float32Array } {
  const t = outputs[name];
  if (t === undefined) {
    throw new BundleError(
      `${graph} has no output "${name}" (outputs: ${Object.keys(outputs).join(", ")}): the bundle is from another version: ${fix}`,
    );
  }
  if (!(t.data instanceof Float32Array)) throw new BundleError(`${graph} output "${name}" is not float32`);
  return t as Tensor & { data: Float32Array };
}

/** Collects the gradients `gradients[name]` of every parameter of `layout` into a ParamSet. */
export function gradSet(
  outputs: Record<string, Tensor>,
  layout: ParamSet,
  gradients: Readonly<Record<string, string>>,
  graph: string,
  fix = PREPARE_AGAIN,
): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, t] of layout) {
    const outName = gradients[name];
    if (outName === undefined) throw new BundleError(`${graph} computes no gradient of "${name}"`);
    const g = floatOutput(outputs, outName, graph, fix);
    if (g.data.length !== t.data.length) {
      throw new BundleError(
        `${graph}: gradient of "${name}" has ${g.data.length} values, the parameter ${t.data.length}`,
      );
    }
    out.set(name, { data: g.data, shape: [...t.shape] });
  }
  return out;
}

/** Splits a ParamSet into the parameters named in `names` and the rest (order kept). */
export function pickParams(params: ParamSet, names: readonly string[]): ParamSet {
  const out: ParamSet = new Map();
  for (const n of names) {
    const t = params.get(n);
    if (t === undefined) throw new BundleError(`parameter "${n}" is missing from the set`);
    out.set(n, t);
  }
  return out;
}

/** A ParamSet made of `a` then `b`. */
export function joinParams(a: ParamSet, b: ParamSet): ParamSet {
  return new Map([...a, ...b]);
}
