// Gradient clipping by global norm (as torch.nn.utils.clip_grad_norm_): one scale for every tensor,
// so the update keeps its direction and only its length is bounded.
import { TrainingArgumentError } from "./errors.js";
import { cloneParams, l2Norm, scaleParamsInPlace, type ParamSet } from "./param-set.js";

// torch adds this to the norm so that a zero gradient never divides by zero.
const CLIP_EPS = 1e-6;

/** The factor clipping applies: min(1, maxNorm / (norm + 1e-6)). */
export function clipScale(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new TrainingArgumentError(`clipNorm must be a finite number > 0, got ${maxNorm}`, "clipNorm");
  }
  if (!Number.isFinite(norm)) {
    throw new TrainingArgumentError(
      `gradient norm is ${norm}: the gradients hold NaN/Inf; lower the learning rate`,
      "grads",
    );
  }
  return Math.min(1, maxNorm / (norm + CLIP_EPS));
}

/** Result of clipping: the (new) gradients, the norm before clipping and the factor applied. */
export interface ClipResult {
  readonly grads: ParamSet;
  readonly norm: number;
  readonly scale: number;
}

/** Returns grads scaled so that their global L2 norm is at most maxNorm; the input is not modified. */
export function clipByGlobalNorm(grads: ParamSet, maxNorm: number): ClipResult {
  const norm = l2Norm(grads);
  const scale = clipScale(norm, maxNorm);
  const out = cloneParams(grads);
  if (scale < 1) scaleParamsInPlace(out, scale);
  return { grads: out, norm, scale };
}
