// Small statistics over per-iteration timings of the engine benchmark.

export interface Timings {
  step: number[];
  forward: number[];
  backward: number[];
  /** process CPU time of the step (all threads); at one thread the measure least moved by other load */
  cpu: number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** ‖a − b‖₂ / max(‖b‖₂, 1e-30) over two float32 buffers of equal length. */
export function relErr(a: Float32Array, b: Float32Array): number {
  let d2 = 0;
  let b2 = 0;
  for (let i = 0; i < b.length; i++) {
    const d = (a[i] ?? Number.NaN) - b[i]!;
    d2 += d * d;
    b2 += b[i]! * b[i]!;
  }
  return Math.sqrt(d2) / Math.max(Math.sqrt(b2), 1e-30);
}
