// Runs split partitions and gradient graphs in the splitter tests: sessions fed by name from one
// environment of tensors (the chaining rule), and central finite differences of a scalar function.
import { GraphSession, f32, type Model, type Tensor } from "@sfprompt/engine";
import { Rng } from "./random.js";

export type Env = Record<string, Tensor>;

/** A session that takes, from `env`, exactly the inputs its model declares (defaults may be left out). */
export interface Runner {
  run(env: Readonly<Env>): Promise<Env>;
  release(): Promise<void>;
}

export async function runner(model: Model | string): Promise<Runner> {
  const s = await GraphSession.create(model);
  return {
    async run(env) {
      const feeds: Env = {};
      for (const name of s.inputNames) {
        const v = env[name];
        if (v !== undefined) feeds[name] = v;
        else if (!s.defaultedInputs.includes(name)) throw new Error(`no value for input "${name}"`);
      }
      return s.run(feeds);
    },
    release: () => s.release(),
  };
}

/** Runs `model` once on the named tensors of `env`. */
export async function runOn(model: Model | string, env: Readonly<Env>): Promise<Env> {
  const r = await runner(model);
  try {
    return await r.run(env);
  } finally {
    await r.release();
  }
}

/** Feeds every partition from the model inputs and earlier outputs; returns everything computed. */
export async function runChain(parts: readonly (Model | string)[], inputs: Readonly<Env>): Promise<Env> {
  const env: Env = { ...inputs };
  for (const p of parts) Object.assign(env, await runOn(p, env));
  return env;
}

export function values(t: Tensor | undefined): Float64Array {
  if (t === undefined) throw new Error("missing tensor");
  return Float64Array.from(t.data as ArrayLike<number | bigint>, Number);
}

export function maxAbsDiff(a: Tensor | undefined, b: Tensor | undefined): number {
  const [x, y] = [values(a), values(b)];
  if (x.length !== y.length) throw new Error(`lengths differ: ${x.length} vs ${y.length}`);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - (y[i] as number))), 0);
}

/** ‖a − b‖ / ‖b‖ */
export function relErr(a: Tensor | Float64Array, b: Tensor | Float64Array): number {
  const x = a instanceof Float64Array ? a : values(a);
  const y = b instanceof Float64Array ? b : values(b);
  let d = 0;
  let n = 0;
  y.forEach((v, i) => {
    d += ((x[i] as number) - v) ** 2;
    n += v * v;
  });
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

/** <a, r> for the upstream-gradient loss L = Σ a·r. */
export function dot(a: Tensor, r: Tensor): number {
  const [x, y] = [values(a), values(r)];
  return x.reduce((s, v, i) => s + v * (y[i] as number), 0);
}

export function randomLike(rng: Rng, t: Tensor): Tensor {
  return f32(
    t.dims,
    Array.from({ length: t.data.length }, () => rng.normal()),
  );
}

export interface FdRequest {
  /** The scalar function of the parameters (all other inputs fixed). */
  readonly f: (theta: Env) => Promise<number>;
  readonly theta: Env;
  /** The analytic gradients to check, by parameter name. */
  readonly grads: Readonly<Record<string, Float64Array>>;
  readonly eps: number;
  readonly samples?: number;
  readonly seed?: number;
  readonly floor?: number;
}

export interface FdResult {
  /** Largest |fd − g| / max(max|g|, floor) over sampled elements (plus each tensor's largest). */
  readonly sampleError: number;
  /** The same for the directional derivative along a random direction of all parameters. */
  readonly directionError: number;
}

function shifted(t: Tensor, delta: Float64Array, sign: number): Tensor {
  const v = values(t).map((x, i) => x + sign * (delta[i] as number));
  return f32(t.dims, v);
}

/** Central finite differences of `f` against `grads`. */
export async function fdCheck(req: FdRequest): Promise<FdResult> {
  const rng = new Rng(req.seed ?? 11);
  const floor = req.floor ?? 1e-2;
  let sampleError = 0;
  for (const [name, g] of Object.entries(req.grads)) {
    const t = req.theta[name] as Tensor;
    const scale = Math.max(floor, ...Array.from(g, Math.abs));
    let arg = 0;
    g.forEach((v, i) => (Math.abs(v) > Math.abs(g[arg] as number) ? (arg = i) : 0));
    for (const i of [arg, ...Array.from({ length: req.samples ?? 3 }, () => rng.int(g.length))]) {
      const e = new Float64Array(g.length);
      e[i] = req.eps;
      const fd =
        ((await req.f({ ...req.theta, [name]: shifted(t, e, 1) })) -
          (await req.f({ ...req.theta, [name]: shifted(t, e, -1) }))) /
        (2 * req.eps);
      sampleError = Math.max(sampleError, Math.abs(fd - (g[i] as number)) / scale);
    }
  }
  const plus: Env = { ...req.theta };
  const minus: Env = { ...req.theta };
  let analytic = 0;
  let scale = 0;
  for (const [name, g] of Object.entries(req.grads)) {
    const t = req.theta[name] as Tensor;
    const v = Float64Array.from(g, () => rng.normal());
    v.forEach((vi, i) => {
      analytic += vi * (g[i] as number);
      scale += Math.abs(vi * (g[i] as number));
    });
    const step = v.map((x) => x * req.eps);
    plus[name] = shifted(t, step, 1);
    minus[name] = shifted(t, step, -1);
  }
  const fdDir = ((await req.f(plus)) - (await req.f(minus))) / (2 * req.eps);
  return { sampleError, directionError: Math.abs(fdDir - analytic) / Math.max(scale, floor) };
}
