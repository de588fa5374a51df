// Optimizer steps over a ParamSet given gradients as a ParamSet: SGD (momentum, Nesterov, weight
// decay) and Adam/AdamW (bias-corrected), with explicit state that checkpoints can store.
import { TrainingArgumentError } from "./errors.js";
import { clipScale } from "./grad-clip.js";
import {
  resolveAdam,
  resolveSgd,
  type OptimizerConfig,
  type OptimizerKind,
  type ResolvedAdam,
  type ResolvedSgd,
} from "./optimizer-config.js";
import {
  assertSameLayout,
  cloneParams,
  l2Norm,
  zerosLike,
  type ParamSet,
  type ParamTensor,
} from "./param-set.js";

/** Per-parameter buffers and the step count; slot sets share the params' layout. */
export interface OptimizerState {
  readonly kind: OptimizerKind;
  /** Steps taken so far (Adam's bias correction, SGD's first-step momentum seed). */
  step: number;
  /** sgd: { momentum } (absent when momentum = 0); adam/adamw: { m, v }. */
  readonly slots: Readonly<Record<string, ParamSet>>;
}

/** What one step did, for logs and tests. */
export interface StepInfo {
  /** Global L2 norm of the gradients before clipping. */
  readonly gradNorm: number;
  /** Factor applied by clipping (1 when not clipped). */
  readonly clipScale: number;
  /** Learning rate used. */
  readonly lr: number;
}

/** Per-step overrides, e.g. a learning-rate schedule. */
export interface StepOptions {
  readonly lr?: number;
}

/** Fresh state for `params` (zeros buffers, step 0). */
export function initOptimizerState(config: OptimizerConfig, params: ParamSet): OptimizerState {
  if (config.kind === "sgd") {
    const c = resolveSgd(config);
    return { kind: "sgd", step: 0, slots: c.momentum > 0 ? { momentum: zerosLike(params) } : {} };
  }
  resolveAdam(config);
  return { kind: config.kind, step: 0, slots: { m: zerosLike(params), v: zerosLike(params) } };
}

function slot(state: OptimizerState, name: string, params: ParamSet): ParamSet {
  const s = state.slots[name];
  if (!s) {
    throw new TrainingArgumentError(
      `${state.kind} optimizer state lacks its '${name}' buffers: create it with initOptimizerState`,
      `slots.${name}`,
    );
  }
  assertSameLayout(params, s, "params", `optimizer slot '${name}'`);
  return s;
}

function sgdTensor(
  c: ResolvedSgd,
  lr: number,
  g: number,
  p: ParamTensor,
  gr: Float32Array,
  buf?: Float32Array,
  first?: boolean,
): void {
  const pd = p.data;
  const mu = c.momentum;
  const wd = c.weightDecay;
  for (let i = 0; i < pd.length; i++) {
    const w = pd[i] as number;
    let d = (gr[i] as number) * g + wd * w;
    if (buf) {
      const b = first ? d : mu * (buf[i] as number) + (1 - c.dampening) * d;
      buf[i] = b;
      d = c.nesterov ? d + mu * b : b;
    }
    pd[i] = w - lr * d;
  }
}

function adamTensor(
  c: ResolvedAdam,
  lr: number,
  g: number,
  t: number,
  p: ParamTensor,
  gr: Float32Array,
  m: Float32Array,
  v: Float32Array,
): void {
  const pd = p.data;
  const { beta1, beta2, eps, weightDecay } = c;
  const decoupled = c.kind === "adamw";
  const stepSize = lr / (1 - beta1 ** t);
  const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
  for (let i = 0; i < pd.length; i++) {
    let w = pd[i] as number;
    let d = (gr[i] as number) * g;
    if (decoupled) w *= 1 - lr * weightDecay;
    else d += weightDecay * w;
    const mi = beta1 * (m[i] as number) + (1 - beta1) * d;
    const vi = beta2 * (v[i] as number) + (1 - beta2) * d * d;
    m[i] = mi;
    v[i] = vi;
    pd[i] = w - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

/**
 * One update, in place: mutates `params` and `state` (buffers and step). Use it on the training hot
 * path; `optimizerStep` is the pure variant.
 */
export function optimizerStepInPlace(
  config: OptimizerConfig,
  params: ParamSet,
  grads: ParamSet,
  state: OptimizerState,
  opts: StepOptions = {},
): StepInfo {
  if (state.kind !== config.kind) {
    throw new TrainingArgumentError(
      `optimizer state is for '${state.kind}' but the config is '${config.kind}'`,
      "kind",
    );
  }
  assertSameLayout(params, grads, "params", "grads");
  const c = config.kind === "sgd" ? resolveSgd(config) : resolveAdam(config);
  const lr = opts.lr ?? c.lr;
  if (!(lr >= 0) || !Number.isFinite(lr))
    throw new TrainingArgumentError(`lr must be finite and ≥ 0, got ${lr}`, "lr");
  const gradNorm = l2Norm(grads);
  const scale = c.clipNorm === undefined ? 1 : clipScale(gradNorm, c.clipNorm);
  if (c.kind === "sgd") sgdStep(c, lr, scale, params, grads, state);
  else adamStep(c, lr, scale, params, grads, state);
  state.step += 1;
  return { gradNorm, clipScale: scale, lr };
}

function sgdStep(
  c: ResolvedSgd,
  lr: number,
  scale: number,
  params: ParamSet,
  grads: ParamSet,
  state: OptimizerState,
): void {
  const mom = c.momentum > 0 ? slot(state, "momentum", params) : undefined;
  for (const [name, p] of params) {
    const gr = (grads.get(name) as ParamTensor).data;
    sgdTensor(c, lr, scale, p, gr, mom?.get(name)?.data, state.step === 0);
  }
}

function adamStep(
  c: ResolvedAdam,
  lr: number,
  scale: number,
  params: ParamSet,
  grads: ParamSet,
  state: OptimizerState,
): void {
  const m = slot(state, "m", params);
  const v = slot(state, "v", params);
  const t = state.step + 1;
  for (const [name, p] of params) {
    const gr = (grads.get(name) as ParamTensor).data;
    adamTensor(c, lr, scale, t, p, gr, (m.get(name) as ParamTensor).data, (v.get(name) as ParamTensor).data);
  }
}

/** Deep copy of optimizer state. */
export function cloneOptimizerState(state: OptimizerState): OptimizerState {
  const slots: Record<string, ParamSet> = {};
  for (const [k, s] of Object.entries(state.slots)) slots[k] = cloneParams(s);
  return { kind: state.kind, step: state.step, slots };
}

/** Pure update: returns new params and state; inputs are left untouched. */
export function optimizerStep(
  config: OptimizerConfig,
  params: ParamSet,
  grads: ParamSet,
  state: OptimizerState,
  opts: StepOptions = {},
): { params: ParamSet; state: OptimizerState; info: StepInfo } {
  const p = cloneParams(params);
  const s = cloneOptimizerState(state);
  const info = optimizerStepInPlace(config, p, grads, s, opts);
  return { params: p, state: s, info };
}
