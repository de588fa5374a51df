// Concatenation and splitting of float32 tensors along the batch axis, for batched body runs.
import type { Tensor } from "@sfprompt/engine";
import { f32Tensor } from "../bundle/tensors.js";

/** The shape without its batch axis, as a grouping key. */
export function rowShapeKey(t: Tensor): string {
  return t.dims.slice(1).join("x");
}

/** Stacks tensors of equal row shape along axis 0. */
export function concatBatch(ts: readonly Tensor[]): Tensor {
  if (ts.length === 1) return ts[0]!;
  const total = ts.reduce((n, t) => n + t.data.length, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const t of ts) {
    out.set(t.data as Float32Array, at);
    at += t.data.length;
  }
  const rows = ts.reduce((n, t) => n + (t.dims[0] ?? 0), 0);
  return f32Tensor(out, [rows, ...ts[0]!.dims.slice(1)]);
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
