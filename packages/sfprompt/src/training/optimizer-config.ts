// Optimizer settings and their validation; the formulas follow torch.optim so that results can be
// compared with PyTorch runs of the same recipe.
import { TrainingArgumentError } from "./errors.js";

/** SGD as torch.optim.SGD: weight decay added to the gradient, momentum buffer seeded with g. */
export interface SgdConfig {
  readonly kind: "sgd";
  readonly lr: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
  /** Clip gradients to this global L2 norm before the update. */
  readonly clipNorm?: number;
}

/** Adam (L2 weight decay in the gradient) or AdamW (decoupled decay), with bias correction. */
export interface AdamConfig {
  readonly kind: "adam" | "adamw";
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Default 0 for adam, 0.01 for adamw (torch's defaults). */
  readonly weightDecay?: number;
  readonly clipNorm?: number;
}

export type OptimizerConfig = SgdConfig | AdamConfig;
export type OptimizerKind = OptimizerConfig["kind"];

/** SgdConfig with every default filled in. */
export type ResolvedSgd = Required<Omit<SgdConfig, "clipNorm">> & { clipNorm: number | undefined };
/** AdamConfig with every default filled in. */
export type ResolvedAdam = Required<Omit<AdamConfig, "clipNorm">> & { clipNorm: number | undefined };

function check(ok: boolean, field: string, rule: string, value: unknown): void {
  if (!ok) throw new TrainingArgumentError(`optimizer ${field} ${rule}, got ${String(value)}`, field);
}

function checkCommon(lr: number, wd: number, clipNorm: number | undefined): void {
  check(lr >= 0 && Number.isFinite(lr), "lr", "must be a finite number ≥ 0", lr);
  check(wd >= 0 && Number.isFinite(wd), "weightDecay", "must be a finite number ≥ 0", wd);
  if (clipNorm !== undefined) {
    check(clipNorm > 0 && Number.isFinite(clipNorm), "clipNorm", "must be a finite number > 0", clipNorm);
  }
}

/** Fills SGD defaults and validates ranges (nesterov needs momentum > 0 and no dampening, as in torch). */
export function resolveSgd(c: SgdConfig): ResolvedSgd {
  const r: ResolvedSgd = {
    kind: "sgd",
    lr: c.lr,
    momentum: c.momentum ?? 0,
    dampening: c.dampening ?? 0,
    nesterov: c.nesterov ?? false,
    weightDecay: c.weightDecay ?? 0,
    clipNorm: c.clipNorm,
  };
  checkCommon(r.lr, r.weightDecay, r.clipNorm);
  check(r.momentum >= 0 && r.momentum < 1, "momentum", "must be in [0, 1)", r.momentum);
  check(r.dampening >= 0 && r.dampening <= 1, "dampening", "must be in [0, 1]", r.dampening);
  if (r.nesterov) {
    check(r.momentum > 0 && r.dampening === 0, "nesterov", "needs momentum > 0 and dampening 0", r.momentum);
  }
  return r;
}

/** Fills Adam/AdamW defaults and validates ranges. */
export function resolveAdam(c: AdamConfig): ResolvedAdam {
  const r: ResolvedAdam = {
    kind: c.kind,
    lr: c.lr,
    beta1: c.beta1 ?? 0.9,
    beta2: c.beta2 ?? 0.999,
    eps: c.eps ?? 1e-8,
    weightDecay: c.weightDecay ?? (c.kind === "adamw" ? 0.01 : 0),
    clipNorm: c.clipNorm,
  };
  checkCommon(r.lr, r.weightDecay, r.clipNorm);
  check(r.beta1 >= 0 && r.beta1 < 1, "beta1", "must be in [0, 1)", r.beta1);
  check(r.beta2 >= 0 && r.beta2 < 1, "beta2", "must be in [0, 1)", r.beta2);
  check(r.eps > 0 && Number.isFinite(r.eps), "eps", "must be a finite number > 0", r.eps);
  return r;
}

/** The job spec's optimizer section (packages/api OptimizerSchema), read structurally. */
export interface SpecOptimizer {
  readonly name: "sgd" | "adam";
  readonly learningRate: number;
  readonly momentum?: number;
  readonly weightDecay?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly schedule?: "constant" | "cosine";
}

/**
 * The learning rate of round `round` (1-based) of `rounds`: constant, or cosine-annealed over the
 * rounds, lr·½(1 + cos(π·(round−1)/rounds)), so the last rounds take small steps (ADR 0024).
 */
export function learningRateForRound(spec: SpecOptimizer, round: number, rounds: number): number {
  if (spec.schedule !== "cosine" || rounds <= 1) return spec.learningRate;
  const at = Math.min(Math.max(round - 1, 0), rounds - 1) / rounds;
  return spec.learningRate * 0.5 * (1 + Math.cos(Math.PI * at));
}

/** Maps the spec's optimizer section to a config for optimizerStep, at round `round` of `rounds`. */
export function optimizerConfigFromSpec(spec: SpecOptimizer, round = 1, rounds = 1): OptimizerConfig {
  const lr = learningRateForRound(spec, round, rounds);
  if (spec.name === "sgd") {
    return resolveSgd({
      kind: "sgd",
      lr,
      momentum: spec.momentum,
      weightDecay: spec.weightDecay,
    });
  }
  return resolveAdam({
    kind: "adam",
    lr,
    beta1: spec.beta1,
    beta2: spec.beta2,
    weightDecay: spec.weightDecay,
  });
}
