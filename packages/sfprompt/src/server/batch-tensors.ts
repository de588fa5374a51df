// Concatenation and splitting of tensors (float32 activations, int64 masks) along the batch axis, for
// batched body runs.
import type { Tensor } from "@sfprompt/engine";
import { f32Tensor } from "../bundle/tensors.js";

type Data = Float32Array | BigInt64Array;

/** The shape without its batch axis, as a grouping key. */
export function rowShapeKey(t: Tensor): string {
  return t.dims.slice(1).join("x");
}

/** Stacks tensors of equal row shape along axis 0. */
export function concatBatch(ts: readonly Tensor[]): Tensor {
  if (ts.length === 1) return ts[0]!;
  const total = ts.reduce((n, t) => n + t.data.length, 0);
  const first = ts[0]!;
  const out: Data = first.data instanceof BigInt64Array ? new BigInt64Array(total) : new Float32Array(total);
  let at = 0;
  for (const t of ts) {
    (out as Float32Array).set(t.data as Float32Array, at);
    at += t.data.length;
  }
  const rows = ts.reduce((n, t) => n + (t.dims[0] ?? 0), 0);
  return { dtype: first.dtype, dims: [rows, ...first.dims.slice(1)], data: out };
}

/** Stacks records of tensors (the same names in each) along axis 0, name by name. */
export function concatRecords(rs: readonly Record<string, Tensor>[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(rs[0] ?? {})) out[name] = concatBatch(rs.map((r) => r[name]!));
  return out;
}

/** A grouping key over every tensor of a record: items batch together only when all rows agree. */
export function recordShapeKey(r: Record<string, Tensor>): string {
  return Object.keys(r)
    .sort()
    .map((n) => `${n}:${rowShapeKey(r[n]!)}`)
    .join(";");
}

/** Splits `t` along axis 0 into pieces of `sizes` rows (copies, so replies own their buffers). */
export function splitBatch(t: Tensor, sizes: readonly number[]): Array<Tensor & { data: Float32Array }> {
  const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const out: Array<Tensor & { data: Float32Array }> = [];
  let row = 0;
  for (const s of sizes) {
    const data = (t.data as Float32Array).slice(row * per, (row + s) * per);
    out.push(f32Tensor(data, [s, ...t.dims.slice(1)]) as Tensor & { data: Float32Array });
    row += s;
  }
  return out;
}

/** Groups item indices by a key, keeping first-seen order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): number[][] {
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => {
    const k = key(it);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [i]);
    else g.push(i);
  });
  return [...groups.values()];
}
