// The training loss the tail and local-path gradient graphs carry: mean softmax cross-entropy over the
// batch with int64 class labels, written with LogSoftmax and a one-hot built by Equal (no OneHot op,
// so the existing gradient rules cover it). The loss is seeded with 1 inside the gradient graph.
import { buildGradientModel } from "../autodiff/gradient-model.js";
import { GraphBuilder } from "../builder/graph-builder.js";
import { cloneGraph } from "../ir/clone-graph.js";
import { codeFromDtype } from "../ir/dtype.js";
import { i64s, scalar } from "../ir/tensor.js";
import type { Dim, Model, ValueInfo } from "../ir/types.js";
import { inferShapes } from "../shape/infer.js";
import { TailRewriteError } from "./errors.js";

export const LOSS = "loss";
export const LABELS = "labels";

export interface LossGradientRequest {
  readonly model: Model;
  readonly opset: number;
  readonly logits: string;
  /** Tensors to differentiate the loss with respect to (graph inputs). */
  readonly wrt: readonly string[];
}

/** `model` with a labels input and the loss as its only output. */
export function withLoss(model: Model, opset: number, logits: string): Model {
  const g = cloneGraph(model.graph);
  const facts = inferShapes(g, opset);
  const f = facts.get(logits);
  const classes = f?.shape?.at(-1);
  if (typeof classes !== "number" || f?.shape?.length !== 2)
    throw new TailRewriteError(
      `the logits "${logits}" must have shape [batch, classes] with a known class count (got [${(f?.shape ?? []).join(", ")}])`,
    );
  const batch: Dim = f.shape[0] ?? "batch";
  const b = new GraphBuilder({ graph: g, opset });
  b.input(LABELS, "int64", [batch]);
  const name = (s: string): { name: string } => ({ name: `loss/${s}` });
  const logp = b.op("LogSoftmax", [logits], { axis: -1 }, name("log_softmax"));
  const hit = b.op(
    "Equal",
    [b.unsqueeze(LABELS, [1], name("labels2d")), b.constant(i64s(range(classes)), "classes")],
    {},
    name("hit"),
  );
  const onehot = b.op("Cast", [hit], { to: codeFromDtype(f.dtype) }, name("one_hot"));
  const picked = b.reduceSum(
    b.op("Mul", [onehot, logp], {}, name("picked")),
    [1],
    false,
    name("log_likelihood"),
  );
  const mean = b.reduceMean(picked, [0], false, name("mean"));
  b.op("Neg", [mean], {}, { ...name("neg"), outputs: [LOSS] });
  g.outputs = [{ name: LOSS, dtype: f.dtype, shape: [] }];
  return { ...model, graph: g };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * The gradient model of the loss: inputs are the model's inputs, the labels and the wrt parameters;
 * outputs are loss, logits, then grad_<w> for every w of wrt. d loss / d loss = 1 is a constant.
 */
export function buildLossGradientModel(req: LossGradientRequest): Model {
  const lossModel = withLoss(req.model, req.opset, req.logits);
  const gm = buildGradientModel(lossModel, { wrt: req.wrt });
  const g = gm.graph;
  const seed = `grad_${LOSS}`;
  const dtype = g.outputs[0]?.dtype ?? "float32";
  g.inputs = g.inputs.filter((i) => i.name !== seed);
  g.initializers.set(seed, scalar(dtype, 1));
  const facts = inferShapes(lossModel.graph, req.opset);
  const f = facts.get(req.logits);
  const logitsInfo: ValueInfo = {
    name: req.logits,
    dtype: f?.dtype ?? dtype,
    ...(f?.shape ? { shape: f.shape } : {}),
  };
  g.outputs = [g.outputs[0] as ValueInfo, logitsInfo, ...g.outputs.slice(1)];
  return gm;
}
