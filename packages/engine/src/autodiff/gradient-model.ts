// Builds the gradient model G of a model M (the `sfprompt grad` contract):
//   inputs  = M's inputs, then grad_<O> for every output O of M, then every initializer named in wrt
//             (its value kept as the default initializer);
//   outputs = M's outputs in order, then grad_<w> for every w of wrt, shaped like w.
import { GradientNameTakenError, WrtError } from "../errors.js";
import { cloneGraph } from "../ir/clone-graph.js";
import { isFloat } from "../ir/dtype.js";
import type { Model, ValueInfo } from "../ir/types.js";
import type { ShapeTable } from "../shape/facts.js";
import { inferShapes } from "../shape/infer.js";
import { appendBackward } from "./backward.js";
import { pruneDead } from "./graph-analysis.js";
import { splitSaveActivations, type SavedActivationsModels } from "./save-activations.js";

export type GradientMode = "recompute" | "save-activations";

export interface GradientOptions {
  /** Float graph inputs or initializers of the model to differentiate with respect to, in output order. */
  readonly wrt: readonly string[];
  /** Facts that override static inference (e.g. from probeShapes when a rank cannot be inferred). */
  readonly facts?: ShapeTable;
  /**
   * Recompute only: false drops M's outputs from G, which then returns only grad_<w> and skips the
   * forward work no gradient needs (a block's last MLP GEMM). Default true (the `sfprompt grad` contract).
   */
  readonly keepOutputs?: boolean;
}

/** The default-domain opset of a model. */
export function defaultOpset(model: Model): number {
  return model.opsetImports.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 1;
}

function checkWrt(model: Model, wrt: readonly string[]): void {
  const g = model.graph;
  if (wrt.length === 0)
    throw new WrtError("--wrt is empty: name at least one float graph input or initializer");
  const seen = new Set<string>();
  for (const w of wrt) {
    if (seen.has(w)) throw new WrtError(`--wrt names "${w}" twice`);
    seen.add(w);
    const init = g.initializers.get(w);
    const input = g.inputs.find((i) => i.name === w);
    const dtype = init?.dtype ?? input?.dtype;
    if (dtype === undefined) {
      const hint = [...g.inputs.map((i) => i.name), ...g.initializers.keys()].slice(0, 8).join(", ");
      throw new WrtError(
        `--wrt "${w}" is neither a graph input nor an initializer of the model (some names: ${hint})`,
      );
    }
    if (!isFloat(dtype))
      throw new WrtError(`--wrt "${w}" has dtype ${dtype}; only float tensors can be differentiated`);
  }
}

/**
 * The opset G is written at: 13-15 move to 16 (ScatterND's reduction, used by Gather's gradient);
 * no op changed meaning for inference between 13 and 16, only types and optional attributes.
 */
export function gradientOpset(model: Model): number {
  const opset = defaultOpset(model);
  return opset >= 13 && opset < 16 ? 16 : opset;
}

function withOpset(model: Model, opset: number): Model {
  const others = model.opsetImports.filter((o) => o.domain !== "" && o.domain !== "ai.onnx");
  return { ...model, opsetImports: [{ domain: "", version: opset }, ...others] };
}

/** Builds G (forward + VJP in one model): the recompute variant. */
export function buildGradientModel(model: Model, options: GradientOptions): Model {
  checkWrt(model, options.wrt);
  const opset = gradientOpset(model);
  const graph = cloneGraph(model.graph);
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const extraInputs: ValueInfo[] = [];
  for (const w of options.wrt) {
    const t = graph.initializers.get(w);
    if (t !== undefined && !inputNames.has(w))
      extraInputs.push({ name: w, dtype: t.dtype, shape: [...t.dims] });
  }
  const facts = inferShapes(graph, opset);
  for (const [k, v] of options.facts ?? []) if (facts.get(k)?.shape === undefined) facts.set(k, v);
  const taken = new Set([
    ...graph.nodes.flatMap((n) => n.outputs),
    ...graph.initializers.keys(),
    ...inputNames,
  ]);
  const gradInputs: ValueInfo[] = graph.outputs.map((o) => {
    const name = `grad_${o.name}`;
    if (taken.has(name)) throw new GradientNameTakenError(name);
    const f = facts.get(o.name);
    const shape = o.shape ?? f?.shape;
    const dtype = o.dtype !== "other" ? o.dtype : (f?.dtype ?? "float32");
    return shape === undefined ? { name, dtype } : { name, dtype, shape };
  });
  const seeds = new Map(graph.outputs.map((o, i) => [o.name, (gradInputs[i] as ValueInfo).name]));
  const grads = appendBackward({ graph, opset, facts, wrt: options.wrt, seeds });
  for (const w of options.wrt) {
    const name = `grad_${w}`;
    if (taken.has(name)) throw new GradientNameTakenError(name);
    graph.nodes.push({
      name: `${name}/output`,
      opType: "Identity",
      domain: "",
      inputs: [grads.get(w) as string],
      outputs: [name],
      attrs: {},
    });
    const f = facts.get(w);
    graph.outputs.push({ name, dtype: f?.dtype ?? "float32", ...(f?.shape ? { shape: f.shape } : {}) });
  }
  graph.inputs = [...graph.inputs, ...gradInputs, ...extraInputs];
  if (options.keepOutputs === false) graph.outputs = graph.outputs.slice(model.graph.outputs.length);
  graph.valueInfo = [];
  pruneDead(graph);
  // Keep every declared input even when unused, so callers can feed the contract's full input list.
  return { ...withOpset(model, opset), graph };
}

/** Builds the save-activations variant: a forward model that also outputs what the backward model takes. */
export function buildSaveActivationsModels(model: Model, options: GradientOptions): SavedActivationsModels {
  const g = buildGradientModel(model, { ...options, keepOutputs: true });
  return splitSaveActivations(g, {
    original: new Set(model.graph.nodes.flatMap((n) => n.outputs)),
    forwardOutputs: model.graph.outputs.map((o) => o.name),
    gradInputs: model.graph.outputs.map((o) => `grad_${o.name}`),
    gradOutputs: options.wrt.map((w) => `grad_${w}`),
    opset: gradientOpset(model),
    ...(options.facts ? { facts: options.facts } : {}),
  });
}

/** Names of float values whose rank static inference leaves unknown (candidates for probeShapes). */
export function unknownRankValues(model: Model): string[] {
  const facts = inferShapes(model.graph, defaultOpset(model));
  const names = model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== "");
  return names.filter((n) => facts.get(n)?.shape === undefined);
}
