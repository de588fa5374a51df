// Central finite differences through ORT itself: checks the gradients of a gradient model G against
// L(theta) = sum_O <O(theta), r_O> at sampled elements and along one random direction.
import assert from "node:assert/strict";
import {
  buildGradientModel,
  buildSaveActivationsModels,
  createSession,
  GraphSession,
  toOrtTensor,
  type Model,
  type Tensor,
} from "@sfprompt/engine";
import type { InferenceSession } from "onnxruntime-node";
import { randomTensor, Rng } from "./random.js";

export interface GradCheckRequest {
  readonly model: Model;
  readonly wrt: readonly string[];
  /** Values of graph inputs (wrt inputs included); wrt initializers default to their stored value. */
  readonly feeds: Readonly<Record<string, Tensor>>;
  readonly eps: number;
  readonly seed?: number;
  /** Sampled elements per wrt tensor (plus the element of largest gradient). */
  readonly samples?: number;
  /** Errors are divided by max(scale, floor) so exactly-zero gradients do not fail spuriously. */
  readonly floor?: number;
}

export interface GradCheckResult {
  /** Largest normalised error over sampled elements. */
  readonly sampleError: number;
  /** Normalised error of the directional derivative. */
  readonly directionError: number;
  /** The gradients of G, by wrt name. */
  readonly grads: Record<string, Float64Array>;
}

/** M with every wrt initializer also declared as a graph input, so perturbed values can be fed. */
function withWrtInputs(model: Model, wrt: readonly string[]): Model {
  const g = model.graph;
  const extra = wrt
    .filter((w) => g.initializers.has(w) && !g.inputs.some((i) => i.name === w))
    .map((w) => {
      const t = g.initializers.get(w) as Tensor;
      return { name: w, dtype: t.dtype, shape: [...t.dims] };
    });
  return { ...model, graph: { ...g, inputs: [...g.inputs, ...extra] } };
}

function toF64(t: Tensor | { data: unknown }): Float64Array {
  return Float64Array.from(t.data as ArrayLike<number>);
}

function withValues(t: Tensor, values: Float64Array): Tensor {
  const data = t.dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
  return { dtype: t.dtype, dims: t.dims, data };
}

async function run(s: InferenceSession, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const f: Record<string, ReturnType<typeof toOrtTensor>> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = toOrtTensor(v);
  const out = await s.run(f);
  const r: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(out))
    r[k] = { dtype: v.type as Tensor["dtype"], dims: [...v.dims], data: v.data as Tensor["data"] };
  return r;
}

/** Asserts that two arrays agree to float32 rounding (ORT fuses differently in G than in M). */
export function assertClose(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const scale = Math.max(1, ...Array.from(b, Math.abs));
  const err = Math.max(0, ...Array.from(a, (v, i) => Math.abs(v - (b[i] as number))));
  assert.ok(err <= 1e-5 * scale, `${what}: differs by ${err}`);
}

/** Runs the finite-difference check; the caller asserts on the returned errors. */
export async function gradCheck(req: GradCheckRequest): Promise<GradCheckResult> {
  const rng = new Rng(req.seed ?? 7);
  const floor = req.floor ?? 1e-2;
  const fwd = await createSession(withWrtInputs(req.model, req.wrt));
  const grad = await createSession(buildGradientModel(req.model, { wrt: req.wrt }));
  try {
    const theta: Record<string, Tensor> = {};
    for (const w of req.wrt) theta[w] = (req.feeds[w] ?? req.model.graph.initializers.get(w)) as Tensor;
    const base = { ...req.feeds, ...theta };
    const y0 = await run(fwd, base);
    const outputs = req.model.graph.outputs.map((o) => o.name);
    const r: Record<string, Tensor> = {};
    for (const o of outputs) {
      const y = y0[o] as Tensor;
      r[`grad_${o}`] = randomTensor(rng, y.dtype, y.dims);
    }
    const loss = async (feeds: Record<string, Tensor>): Promise<number> => {
      const y = await run(fwd, feeds);
      let s = 0;
      for (const o of outputs) {
        const a = toF64(y[o] as Tensor);
        const b = toF64(r[`grad_${o}`] as Tensor);
        for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
      }
      return s;
    };
    const gOut = await run(grad, { ...base, ...r });
    for (const o of outputs)
      assertClose(toF64(gOut[o] as Tensor), toF64(y0[o] as Tensor), `G reproduces output ${o}`);
    const grads: Record<string, Float64Array> = {};
    for (const w of req.wrt) {
      const g = gOut[`grad_${w}`] as Tensor;
      assert.deepEqual(g.dims, [...(theta[w] as Tensor).dims], `grad_${w} has the shape of ${w}`);
      grads[w] = toF64(g);
    }
    let sampleError = 0;
    for (const w of req.wrt) {
      const g = grads[w] as Float64Array;
      const t0 = toF64(theta[w] as Tensor);
      const scale = Math.max(floor, ...Array.from(g, Math.abs));
      let arg = 0;
      g.forEach((v, i) => (Math.abs(v) > Math.abs(g[arg] as number) ? (arg = i) : 0));
      const picks = [arg, ...Array.from({ length: req.samples ?? 4 }, () => rng.int(g.length))];
      for (const i of picks) {
        const plus = Float64Array.from(t0);
        const minus = Float64Array.from(t0);
        plus[i] = (plus[i] as number) + req.eps;
        minus[i] = (minus[i] as number) - req.eps;
        const tw = theta[w] as Tensor;
        const fd =
          ((await loss({ ...base, [w]: withValues(tw, plus) })) -
            (await loss({ ...base, [w]: withValues(tw, minus) }))) /
          (2 * req.eps);
        sampleError = Math.max(sampleError, Math.abs(fd - (g[i] as number)) / scale);
      }
    }
    const dir: Record<string, Float64Array> = {};
    let analytic = 0;
    let scale = 0;
    const plusFeeds: Record<string, Tensor> = { ...base };
    const minusFeeds: Record<string, Tensor> = { ...base };
    for (const w of req.wrt) {
      const t0 = toF64(theta[w] as Tensor);
      const v = Float64Array.from(t0, () => rng.normal());
      dir[w] = v;
      const g = grads[w] as Float64Array;
      v.forEach((vi, i) => {
        analytic += vi * (g[i] as number);
        scale += Math.abs(vi * (g[i] as number));
      });
      plusFeeds[w] = withValues(
        theta[w] as Tensor,
        t0.map((x, i) => x + req.eps * (v[i] as number)),
      );
      minusFeeds[w] = withValues(
        theta[w] as Tensor,
        t0.map((x, i) => x - req.eps * (v[i] as number)),
      );
    }
    const fdDir = ((await loss(plusFeeds)) - (await loss(minusFeeds))) / (2 * req.eps);
    const directionError = Math.abs(fdDir - analytic) / Math.max(scale, floor);
    return { sampleError, directionError, grads };
  } finally {
    await fwd.release();
    await grad.release();
  }
}

/** Runs the save-activations pair and returns its gradients and outputs, for comparison with G. */
export async function runSaveActivations(
  model: Model,
  wrt: readonly string[],
  feeds: Readonly<Record<string, Tensor>>,
  upstream: Readonly<Record<string, Tensor>>,
): Promise<{ outputs: Record<string, Tensor>; grads: Record<string, Tensor> }> {
  const pair = buildSaveActivationsModels(model, { wrt });
  const fwd = await GraphSession.create(pair.forward);
  const bwd = await GraphSession.create(pair.backward);
  try {
    const outputs = await fwd.run({ ...feeds });
    const bIn: Record<string, Tensor> = {};
    for (const i of pair.backward.graph.inputs) {
      const v = upstream[i.name] ?? outputs[i.name] ?? feeds[i.name];
      if (v !== undefined) bIn[i.name] = v;
    }
    const grads = await bwd.run(bIn);
    return { outputs, grads };
  } finally {
    await fwd.release();
    await bwd.release();
  }
}
