// Replaces the classifier (the layer producing the logits) with a fresh C-class one: weight
// xavier-uniform, bias zeros, seeded. Handles Gemm and MatMul(+Add) heads, as torch.onnx exports Linear.
import { producers } from "../autodiff/graph-analysis.js";
import { attrInt } from "../builder/attrs.js";
import type { Graph, Node, Tensor } from "../ir/types.js";
import { TailRewriteError } from "./errors.js";
import { SeededRng, xavierUniform, zeros } from "./init.js";

export interface ClassifierParams {
  readonly weight: string;
  readonly bias?: string;
  /** Input features D. */
  readonly features: number;
}

function initializer(g: Graph, name: string | undefined, what: string): Tensor {
  const t = name === undefined ? undefined : g.initializers.get(name);
  if (t === undefined)
    throw new TailRewriteError(
      `the classifier's ${what} "${name ?? "(none)"}" is not an initializer, so it cannot be replaced; drop --num-classes or export the model with its weights as initializers`,
    );
  return t;
}

/** Swaps in fresh weights for `classes` classes under the same initializer names. */
export function replaceClassifier(
  g: Graph,
  logits: string,
  classes: number,
  rng: SeededRng,
): ClassifierParams {
  const prod = producers(g.nodes);
  const last = prod.get(logits);
  if (last === undefined) throw new TailRewriteError(`no node produces the logits "${logits}"`);
  if (last.opType === "Gemm") return replaceGemm(g, last, classes, rng);
  if (last.opType === "Add") {
    const mm = last.inputs.map((i) => prod.get(i)).find((n): n is Node => n?.opType === "MatMul");
    if (mm !== undefined) {
      const bias = last.inputs.find((i) => i !== mm.outputs[0]) as string;
      return replaceMatMul(g, mm, bias, classes, rng);
    }
  }
  if (last.opType === "MatMul") return replaceMatMul(g, last, undefined, classes, rng);
  throw new TailRewriteError(
    `the logits "${logits}" come from a ${last.opType} node ("${last.name}"); --num-classes can replace a Gemm or MatMul(+Add) classifier only`,
  );
}

function replaceGemm(g: Graph, n: Node, classes: number, rng: SeededRng): ClassifierParams {
  const w = initializer(g, n.inputs[1], "weight");
  const transB = attrInt(n.attrs, "transB", 0) === 1;
  const features = (transB ? w.dims[1] : w.dims[0]) as number;
  const dims = transB ? [classes, features] : [features, classes];
  g.initializers.set(n.inputs[1] as string, xavierUniform(rng, dims, features, classes, w.dtype));
  const biasName = n.inputs[2];
  if (biasName !== undefined && biasName !== "") {
    const b = initializer(g, biasName, "bias");
    g.initializers.set(biasName, zeros(b.dims.length === 2 ? [1, classes] : [classes], b.dtype));
    return { weight: n.inputs[1] as string, bias: biasName, features };
  }
  return { weight: n.inputs[1] as string, features };
}

function replaceMatMul(
  g: Graph,
  n: Node,
  bias: string | undefined,
  classes: number,
  rng: SeededRng,
): ClassifierParams {
  const wName = n.inputs[1] as string;
  const w = initializer(g, wName, "weight");
  if (w.dims.length !== 2)
    throw new TailRewriteError(`the classifier weight "${wName}" has rank ${w.dims.length}, expected 2`);
  const features = w.dims[0] as number;
  g.initializers.set(wName, xavierUniform(rng, [features, classes], features, classes, w.dtype));
  if (bias === undefined) return { weight: wName, features };
  const b = initializer(g, bias, "bias");
  g.initializers.set(bias, zeros([classes], b.dtype));
  return { weight: wName, bias, features };
}
