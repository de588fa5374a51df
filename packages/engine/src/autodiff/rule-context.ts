// What a gradient rule sees and uses: the forward node, upstream grads, static facts, and helpers that
// emit ordinary ONNX inference ops (shared Shape nodes, typed constants, broadcast reduction).
import type { GraphBuilder } from "../builder/graph-builder.js";
import { UnknownRankError, UnsupportedGradientError } from "../errors.js";
import { codeFromDtype } from "../ir/dtype.js";
import { scalar } from "../ir/tensor.js";
import type { Dim, DType, Node, Tensor } from "../ir/types.js";
import type { ShapeTable, ValueFacts } from "../shape/facts.js";

/** A gradient rule: grads for each input of `ctx.node` (undefined where none flows). */
export type GradRule = (ctx: RuleContext) => (string | undefined)[];

export class RuleContext {
  constructor(
    readonly b: GraphBuilder,
    readonly node: Node,
    private readonly facts: ShapeTable,
    private readonly upstream: readonly (string | undefined)[],
    private readonly needs: readonly boolean[],
    private readonly shared: SharedNodes,
  ) {}

  get opset(): number {
    return this.b.opset;
  }

  /** The upstream gradient of output i (undefined when none flows). */
  dy(i = 0): string | undefined {
    return this.upstream[i];
  }

  /** The upstream gradient of output 0, which the rule requires. */
  dy0(): string {
    const g = this.upstream[0];
    if (g === undefined) throw this.unsupported("gradient of output 0 is missing");
    return g;
  }

  /** Whether input i needs a gradient. */
  wants(i: number): boolean {
    return this.needs[i] === true;
  }

  /** Input name i of the forward node. */
  in(i: number): string {
    return this.node.inputs[i] ?? "";
  }

  /** Output name i of the forward node. */
  out(i = 0): string {
    return this.node.outputs[i] ?? "";
  }

  /** Static facts about a value; throws when shape inference left it unknown. */
  info(name: string): ValueFacts & { shape: readonly Dim[] } {
    const f = this.facts.get(name);
    if (f === undefined || f.shape === undefined) {
      throw new UnknownRankError(name, this.node.name, this.node.opType);
    }
    return f as ValueFacts & { shape: readonly Dim[] };
  }

  /** The values of a small constant int tensor (axes, starts), when shape inference knows them. */
  constValue(name: string): number[] | undefined {
    const v = this.facts.get(name)?.value;
    return v !== undefined && v.every((d) => typeof d === "number") ? (v as number[]) : undefined;
  }

  /**
   * True when `name` is a constant (an initializer no graph input overrides, or a Constant node's
   * output) of float32/float64/int values of which none is 0: a rule may then skip a guard for 0.
   */
  isNonZeroConstant(name: string): boolean {
    const g = this.b.graph;
    let t: Tensor | undefined;
    if (!g.inputs.some((i) => i.name === name)) t = g.initializers.get(name);
    if (t === undefined) {
      const c = g.nodes.find((n) => n.opType === "Constant" && n.domain === "" && n.outputs[0] === name);
      const a = c === undefined ? undefined : Object.values(c.attrs)[0];
      if (a?.kind === "float") return a.value !== 0;
      if (a?.kind === "tensor") t = a.value;
    }
    const numeric = ["float32", "float64", "int32", "int64"];
    if (t === undefined || !numeric.includes(t.dtype)) return false;
    return Array.from(t.data as ArrayLike<number | bigint>).every((v) => Number(v) !== 0);
  }

  dtype(name: string): DType {
    return this.facts.get(name)?.dtype ?? "float32";
  }

  rank(name: string): number {
    return this.info(name).shape.length;
  }

  /** A scalar constant with the dtype of `like`. */
  scalar(value: number, like: string): string {
    return this.shared.scalar(this.b, this.dtype(like), value);
  }

  /** Casts `v` to the dtype of `like` (Cast with a static `to`, so it works before CastLike's opset 15). */
  castLike(v: string, like: string): string {
    return this.op("Cast", [v], { to: codeFromDtype(this.dtype(like)) });
  }

  /** Shape(x) as an int64 tensor; one node per x for the whole gradient graph. */
  shapeOf(x: string): string {
    return this.shared.shape(this.b, x);
  }

  /** Records that `padded` is dY of a one-axis Slice zero-padded back to the input's shape. */
  noteSlicePiece(padded: string, piece: SlicePiece): void {
    this.shared.slicePieces.set(padded, piece);
  }

  /** Emits a single-output node named after the forward node. */
  op(opType: string, inputs: readonly string[], attrs: Parameters<GraphBuilder["op"]>[2] = {}): string {
    return this.b.op(opType, inputs, attrs, { name: `${this.node.name}/grad/${opType}` });
  }

  /** The typed error for an unsupported case of this node. */
  unsupported(detail?: string): UnsupportedGradientError {
    return new UnsupportedGradientError(this.node.opType, this.node.name, detail);
  }
}

/** A Slice gradient Pad(dY) along one axis: [start, end) of a dim of static size `dim`. */
export interface SlicePiece {
  readonly dy: string;
  readonly axis: number;
  readonly start: number;
  readonly end: number;
  readonly dim: number;
}

/** Nodes shared by all rules of one gradient graph (Shape of a tensor, typed scalars). */
export class SharedNodes {
  private readonly shapes = new Map<string, string>();
  private readonly scalars = new Map<string, string>();
  /** Pad outputs of Slice rules, so that slices tiling a tensor sum back as one Concat. */
  readonly slicePieces = new Map<string, SlicePiece>();

  shape(b: GraphBuilder, x: string): string {
    let s = this.shapes.get(x);
    if (s === undefined) {
      s = b.op("Shape", [x], {}, { name: `${x}/shape` });
      this.shapes.set(x, s);
    }
    return s;
  }

  scalar(b: GraphBuilder, dtype: DType, value: number): string {
    const key = `${dtype}:${value}`;
    let s = this.scalars.get(key);
    if (s === undefined) {
      s = b.constant(scalar(dtype, value), `c_${dtype}`);
      this.scalars.set(key, s);
    }
    return s;
  }
}
