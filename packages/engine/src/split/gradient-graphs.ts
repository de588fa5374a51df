// The gradient graphs of a split: head (prompt gradient from the head output's gradient), body (input
// gradient from the output gradient, recompute and save-activations; the body is frozen), tail and
// local path (loss in the graph: loss, logits and parameter gradients from labels), and optionally the
// whole prompted model's loss gradient (baselines that run the whole model on one machine).
import { buildGradientModel, buildSaveActivationsModels } from "../autodiff/gradient-model.js";
import type { SavedActivationsModels } from "../autodiff/save-activations.js";
import type { Model } from "../ir/types.js";
import { SplitOptionsError } from "./errors.js";
import { buildLossGradientModel } from "./loss.js";
import type { SplitModel } from "./split-model.js";

export interface SplitGradients {
  /** Undefined when there is no prompt (P = 0): the head then trains nothing. */
  readonly head?: Model;
  readonly headWrt: readonly string[];
  readonly body: Model;
  readonly bodySaved: SavedActivationsModels;
  readonly bodyWrt: readonly string[];
  readonly tail: Model;
  readonly tailWrt: readonly string[];
  readonly local: Model;
  readonly localWrt: readonly string[];
  /** The whole prompted model with its loss, wrt prompt + tail parameters (when asked for). */
  readonly full?: Model;
}

export interface SplitGradientOptions {
  /** Also build the whole prompted model's loss gradient (default true). */
  readonly full?: boolean;
}

/** Builds every gradient graph of the split. */
export function buildSplitGradients(s: SplitModel, options: SplitGradientOptions = {}): SplitGradients {
  const headWrt = s.parameters.filter((p) => p.partition === "head").map((p) => p.name);
  const tailParams = s.parameters.filter((p) => p.partition === "tail").map((p) => p.name);
  if (tailParams.length === 0)
    throw new SplitOptionsError(
      "numClasses",
      "the tail has no trainable weights (its classifier weights are not initializers); pass --num-classes to give it a fresh classifier",
    );
  const bodyWrt = [s.headOutput];
  const tailWrt = [s.bodyOutput, ...tailParams];
  const localWrt = [...headWrt, ...tailParams];
  const loss = (model: Model, wrt: readonly string[]): Model =>
    buildLossGradientModel({ model, opset: s.opset, logits: s.logits, wrt });
  return {
    ...(headWrt.length > 0 ? { head: buildGradientModel(s.head, { wrt: headWrt }) } : {}),
    headWrt,
    // The server's backward request only fetches the input gradient: no output, no last-MLP GEMM.
    body: buildGradientModel(s.body, { wrt: bodyWrt, keepOutputs: false }),
    bodySaved: buildSaveActivationsModels(s.body, { wrt: bodyWrt }),
    bodyWrt,
    tail: loss(s.tail, tailWrt),
    tailWrt,
    local: loss(s.local, localWrt),
    localWrt,
    ...((options.full ?? true) ? { full: loss(s.prompted, localWrt) } : {}),
  };
}
