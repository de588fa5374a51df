// Shared pieces of the per-op shape rules (op-rules.ts, layout-rules.ts).
import type { Dim, DType } from "../ir/types.js";
import type { OpContext, ValueFacts } from "./facts.js";

export type Rule = (ctx: OpContext) => (ValueFacts | undefined)[];

export const first = (ctx: OpContext): ValueFacts | undefined => ctx.ins[0];
export const dt = (ctx: OpContext, i = 0): DType => ctx.ins[i]?.dtype ?? "float32";
export const sh = (ctx: OpContext, i = 0): readonly Dim[] | undefined => ctx.ins[i]?.shape;
export const facts = (dtype: DType, shape: readonly Dim[] | undefined): ValueFacts =>
  shape === undefined ? { dtype } : { dtype, shape };
