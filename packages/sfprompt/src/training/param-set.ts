// Named parameter sets: the trained state (prompts, tail) as an ordered map name → tensor, and the
// arithmetic the optimizers, FedAvg and checkpoints need. Every operation checks names and shapes first.
import { TrainingArgumentError, ParamSetMismatchError, TensorShapeError } from "./errors.js";

/** One float32 tensor, row-major. */
export interface ParamTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Ordered name → tensor map; insertion order is the canonical order (flatten, codec). */
export type ParamSet = Map<string, ParamTensor>;

/** Number of elements of a shape; throws on negative or fractional dimensions. */
export function shapeSize(shape: readonly number[], what = "shape"): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorShapeError(
        `${what} [${shape.join(", ")}] has dimension ${d}: use non-negative integers`,
      );
    }
    n *= d;
  }
  return n;
}

/** Checks one tensor's data length against its shape and wraps it. */
export function paramTensor(data: Float32Array, shape: readonly number[], name = "tensor"): ParamTensor {
  const n = shapeSize(shape, `parameter '${name}' shape`);
  if (data.length !== n) {
    throw new TensorShapeError(
      `parameter '${name}' has ${data.length} values but shape [${shape.join(", ")}] needs ${n}`,
    );
  }
  return { data, shape: [...shape] };
}

/** Builds a ParamSet from [name, {data, shape}] entries, validating each. */
export function paramSet(entries: Iterable<readonly [string, ParamTensor]>): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, t] of entries) {
    if (out.has(name)) {
      throw new ParamSetMismatchError(`parameter '${name}' appears twice: names must be unique`, name);
    }
    out.set(name, paramTensor(t.data, t.shape, name));
  }
  return out;
}

/** Total number of scalars. */
export function paramCount(p: ParamSet): number {
  let n = 0;
  for (const t of p.values()) n += t.data.length;
  return n;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Throws ParamSetMismatchError unless `b` has exactly the names (same order) and shapes of `a`.
 * `labelA`/`labelB` name the two sides in the message (e.g. "params" and "grads").
 */
export function assertSameLayout(a: ParamSet, b: ParamSet, labelA = "left", labelB = "right"): void {
  const an = [...a.keys()];
  const bn = [...b.keys()];
  for (const name of an) {
    if (!b.has(name)) {
      throw new ParamSetMismatchError(`${labelB} lacks parameter '${name}' that ${labelA} has`, name);
    }
  }
  for (const name of bn) {
    if (!a.has(name)) {
      throw new ParamSetMismatchError(`${labelB} has parameter '${name}' that ${labelA} lacks`, name);
    }
  }
  for (let i = 0; i < an.length; i++) {
    if (an[i] !== bn[i]) {
      throw new ParamSetMismatchError(
        `${labelB} orders parameters differently from ${labelA} (position ${i}: '${bn[i]}' vs '${an[i]}')`,
        an[i],
      );
    }
  }
  for (const [name, ta] of a) {
    const tb = b.get(name) as ParamTensor;
    if (!sameShape(ta.shape, tb.shape)) {
      throw new ParamSetMismatchError(
        `parameter '${name}' has shape [${tb.shape.join(", ")}] in ${labelB} but [${ta.shape.join(", ")}] in ${labelA}`,
        name,
      );
    }
  }
}

/** Deep copy. */
export function cloneParams(p: ParamSet): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, t] of p) out.set(name, { data: t.data.slice(), shape: [...t.shape] });
  return out;
}

/** Same names and shapes, all zeros. */
export function zerosLike(p: ParamSet): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, t] of p) out.set(name, { data: new Float32Array(t.data.length), shape: [...t.shape] });
  return out;
}

/** a + b, as a new set. */
export function addParams(a: ParamSet, b: ParamSet): ParamSet {
  return axpyParams(1, b, a);
}

/** s · a, as a new set. */
export function scaleParams(a: ParamSet, s: number): ParamSet {
  const out = cloneParams(a);
  scaleParamsInPlace(out, s);
  return out;
}

/** alpha · x + y, as a new set (BLAS axpy). */
export function axpyParams(alpha: number, x: ParamSet, y: ParamSet): ParamSet {
  const out = cloneParams(y);
  axpyParamsInPlace(alpha, x, out);
  return out;
}

/** y ← alpha · x + y, in place; for optimizer and accumulator hot paths. */
export function axpyParamsInPlace(alpha: number, x: ParamSet, y: ParamSet): void {
  assertSameLayout(y, x, "target", "increment");
  for (const [name, ty] of y) {
    const xd = (x.get(name) as ParamTensor).data;
    const yd = ty.data;
    for (let i = 0; i < yd.length; i++) yd[i] = (yd[i] as number) + alpha * (xd[i] as number);
  }
}

/** a ← s · a, in place. */
export function scaleParamsInPlace(a: ParamSet, s: number): void {
  for (const t of a.values()) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) * s;
  }
}

/** Global L2 norm over every scalar of the set (accumulated in float64). */
export function l2Norm(p: ParamSet): number {
  let s = 0;
  for (const t of p.values()) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i] as number;
      s += v * v;
    }
  }
  return Math.sqrt(s);
}

/** Concatenates every tensor in set order into one vector. */
export function flattenParams(p: ParamSet): Float32Array {
  const out = new Float32Array(paramCount(p));
  let off = 0;
  for (const t of p.values()) {
    out.set(t.data, off);
    off += t.data.length;
  }
  return out;
}

/** Splits a flat vector back into a set with `layout`'s names and shapes (inverse of flattenParams). */
export function unflattenParams(flat: Float32Array, layout: ParamSet): ParamSet {
  const need = paramCount(layout);
  if (flat.length !== need) {
    throw new TensorShapeError(`flat vector has ${flat.length} values but the layout needs ${need}`);
  }
  const out: ParamSet = new Map();
  let off = 0;
  for (const [name, t] of layout) {
    const n = t.data.length;
    out.set(name, { data: flat.slice(off, off + n), shape: [...t.shape] });
    off += n;
  }
  return out;
}

/** Tolerances for paramsAllClose: |a − b| ≤ atol + rtol · |b| elementwise. */
export interface CloseTolerance {
  readonly atol?: number;
  readonly rtol?: number;
}

/** True when both sets have the same layout and every element is within tolerance (equal infinities match, NaN never). */
export function paramsAllClose(a: ParamSet, b: ParamSet, tol: CloseTolerance = {}): boolean {
  const atol = tol.atol ?? 1e-6;
  const rtol = tol.rtol ?? 1e-5;
  if (atol < 0 || rtol < 0) throw new TrainingArgumentError("tolerances must be non-negative", "atol/rtol");
  try {
    assertSameLayout(a, b);
  } catch (err) {
    if (err instanceof ParamSetMismatchError) return false;
    throw err;
  }
  for (const [name, ta] of a) {
    const ad = ta.data;
    const bd = (b.get(name) as ParamTensor).data;
    for (let i = 0; i < ad.length; i++) {
      const x = ad[i] as number;
      const y = bd[i] as number;
      if (x !== y && !(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return false;
    }
  }
  return true;
}

/** Names and shapes only: what a codec header or a checkpoint check compares. */
export function paramLayout(p: ParamSet): Array<{ name: string; shape: number[] }> {
  return [...p].map(([name, t]) => ({ name, shape: [...t.shape] }));
}
