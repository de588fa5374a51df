// What shape inference knows about a value: dtype, shape, and for small integer tensors their values.
import type { Dim, DType, Node } from "../ir/types.js";

export interface ValueFacts {
  readonly dtype: DType;
  /** Undefined when the rank is unknown. */
  readonly shape?: readonly Dim[];
  /** Flattened element values of small int tensors (shape arithmetic); symbols for dims known by name. */
  readonly value?: readonly Dim[];
}

/** Facts about every value of a graph, by name. */
export type ShapeTable = Map<string, ValueFacts>;

/** What an op rule sees: the node, its input facts and the default-domain opset. */
export interface OpContext {
  readonly node: Node;
  readonly ins: readonly (ValueFacts | undefined)[];
  readonly opset: number;
}

/** The known integer values of input i, when every element is a number. */
export function constInts(ctx: OpContext, i: number): number[] | undefined {
  const v = ctx.ins[i]?.value;
  if (v === undefined || !v.every((d) => typeof d === "number")) return undefined;
  return v as number[];
}

/** Facts with an unknown rank. */
export function unknownShape(dtype: ValueFacts["dtype"]): ValueFacts {
  return { dtype };
}
