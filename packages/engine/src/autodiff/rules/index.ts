// The registry of gradient rules, keyed by op type (default ONNX domain).
import type { GradRule } from "../rule-context.js";
import { ACTIVATION_RULES } from "./activation.js";
import { CONV_RULES } from "./conv.js";
import { ELEMENTWISE_RULES } from "./elementwise.js";
import { GATHER_RULES } from "./gather.js";
import { LINEAR_RULES } from "./linear.js";
import { NORM_RULES } from "./norm.js";
import { SHAPE_OP_RULES } from "./shape-ops.js";

export const GRAD_RULES: Readonly<Record<string, GradRule>> = {
  ...ELEMENTWISE_RULES,
  ...ACTIVATION_RULES,
  ...LINEAR_RULES,
  ...NORM_RULES,
  ...SHAPE_OP_RULES,
  ...GATHER_RULES,
  ...CONV_RULES,
};

/** Op types that have a gradient rule. */
export function supportedGradientOps(): string[] {
  return Object.keys(GRAD_RULES).sort();
}
