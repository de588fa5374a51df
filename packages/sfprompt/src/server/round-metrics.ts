// Sums and summaries of per-round metrics for events and run results.
import type { RoundMetrics } from "./checkpoints.js";

/** Sum of the rounds' bytes. */
export function totalBytes(history: readonly RoundMetrics[]): RoundMetrics["bytes"] {
  const out = { up: 0, down: 0, byKind: {} as Record<string, number> };
  for (const r of history) {
    out.up += r.bytes.up;
    out.down += r.bytes.down;
    for (const [k, v] of Object.entries(r.bytes.byKind)) out.byKind[k] = (out.byKind[k] ?? 0) + v;
  }
  return out;
}

/** Round bytes in the shape of the events' schema. */
export function eventBytes(b: RoundMetrics["bytes"]): {
  up: number;
  down: number;
  byKind: Partial<Record<"activation" | "gradient" | "parameters" | "control", number>>;
} {
  const byKind: Partial<Record<"activation" | "gradient" | "parameters" | "control", number>> = {};
  for (const k of ["activation", "gradient", "parameters", "control"] as const)
    if (b.byKind[k] !== undefined) byKind[k] = b.byKind[k];
  return { up: b.up, down: b.down, byKind };
}

/** Accuracy of the last evaluated round (0 before any). */
export function lastAccuracy(history: readonly RoundMetrics[]): number {
  for (let i = history.length - 1; i >= 0; i--) {
    const a = history[i]!.accuracy;
    if (a !== null) return a;
  }
  return 0;
}

export function meanOf(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}
