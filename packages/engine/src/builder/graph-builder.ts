// Builds (or extends) an IR graph in code with unique names and opset-aware helpers for ops whose
// signature changed between opsets (Reduce* axes, Squeeze/Unsqueeze axes, Split sizes).
import { GraphError } from "../errors.js";
import { i64s } from "../ir/tensor.js";
import type { Dim, DType, Graph, Model, Node, Tensor } from "../ir/types.js";
import { toAttrs, type AttrInput } from "./attrs.js";

export interface NodeOptions {
  /** Output names, or how many fresh outputs to create (default 1). */
  readonly outputs?: number | readonly string[];
  readonly name?: string;
  readonly domain?: string;
}

export interface GraphBuilderOptions {
  /** Default-domain opset (default 17). */
  readonly opset?: number;
  readonly irVersion?: number;
  readonly name?: string;
  /** Extend this graph in place instead of starting an empty one. */
  readonly graph?: Graph;
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly opset: number;
  readonly irVersion: number;
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(options: GraphBuilderOptions = {}) {
    this.opset = options.opset ?? 17;
    this.irVersion = options.irVersion ?? (this.opset >= 21 ? 10 : this.opset >= 19 ? 9 : 8);
    this.graph = options.graph ?? {
      name: options.name ?? "graph",
      nodes: [],
      inputs: [],
      outputs: [],
      initializers: new Map(),
      valueInfo: [],
    };
    const g = this.graph;
    for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) this.used.add(v.name);
    for (const k of g.initializers.keys()) this.used.add(k);
    for (const n of g.nodes) {
      this.used.add(n.name);
      for (const o of n.outputs) this.used.add(o);
    }
  }

  /** A name not used by any tensor or node of the graph, derived from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (name === "" || this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    if (this.used.has(name) && !this.graph.initializers.has(name))
      throw new GraphError(`name "${name}" is taken`);
    this.used.add(name);
    this.graph.inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  /** Declares a graph output (dtype/shape optional: unknown ones are left for shape inference). */
  output(name: string, dtype: DType = "float32", shape?: readonly Dim[]): void {
    this.graph.outputs.push(shape === undefined ? { name, dtype } : { name, dtype, shape: [...shape] });
  }

  /** Adds a named initializer (a constant weight) and returns its name. */
  initializer(name: string, t: Tensor): string {
    if (this.used.has(name)) throw new GraphError(`initializer name "${name}" is taken`);
    this.used.add(name);
    this.graph.initializers.set(name, t);
    return name;
  }

  /** Adds an anonymous constant as an initializer and returns its (fresh) name. */
  constant(t: Tensor, hint = "const"): string {
    const name = this.fresh(hint);
    this.graph.initializers.set(name, t);
    return name;
  }

  /** A 1-D int64 constant (axes, shapes, pads). */
  ints(values: readonly number[], hint = "ints"): string {
    return this.constant(i64s(values), hint);
  }

  /** Appends a node and returns its output names. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrInput | undefined> = {},
    options: NodeOptions = {},
  ): string[] {
    const name = this.fresh(options.name ?? opType);
    const outs = options.outputs ?? 1;
    const outputs =
      typeof outs === "number"
        ? Array.from({ length: outs }, (_, i) => this.fresh(`${name}_out${outs > 1 ? i : ""}`))
        : outs.map((o) => {
            this.used.add(o);
            return o;
          });
    const node: Node = {
      name,
      opType,
      domain: options.domain ?? "",
      inputs: [...inputs],
      outputs,
      attrs: toAttrs(attrs),
    };
    this.graph.nodes.push(node);
    return outputs;
  }

  /** Appends a single-output node and returns the output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrInput | undefined> = {},
    options: NodeOptions = {},
  ): string {
    return this.node(opType, inputs, attrs, options)[0] as string;
  }

  /** ReduceSum over `axes` (attribute before opset 13, input after). */
  reduceSum(x: string, axes: readonly number[], keepdims = true, options: NodeOptions = {}): string {
    return this.reduce("ReduceSum", 13, x, axes, keepdims, options);
  }

  /** ReduceMean over `axes` (attribute before opset 18, input after). */
  reduceMean(x: string, axes: readonly number[], keepdims = true, options: NodeOptions = {}): string {
    return this.reduce("ReduceMean", 18, x, axes, keepdims, options);
  }

  /** ReduceMax over `axes` (attribute before opset 18, input after). */
  reduceMax(x: string, axes: readonly number[], keepdims = true, options: NodeOptions = {}): string {
    return this.reduce("ReduceMax", 18, x, axes, keepdims, options);
  }

  private reduce(
    op: string,
    inputSince: number,
    x: string,
    axes: readonly number[],
    keepdims: boolean,
    options: NodeOptions,
  ): string {
    const k = keepdims ? 1 : 0;
    if (this.opset >= inputSince) return this.op(op, [x, this.ints(axes, "axes")], { keepdims: k }, options);
    return this.op(op, [x], { axes: [...axes], keepdims: k }, options);
  }

  /** Unsqueeze (axes attribute before opset 13, input after). */
  unsqueeze(x: string, axes: readonly number[], options: NodeOptions = {}): string {
    if (this.opset >= 13) return this.op("Unsqueeze", [x, this.ints(axes, "axes")], {}, options);
    return this.op("Unsqueeze", [x], { axes: [...axes] }, options);
  }

  /** Squeeze (axes attribute before opset 13, input after). */
  squeeze(x: string, axes: readonly number[], options: NodeOptions = {}): string {
    if (this.opset >= 13) return this.op("Squeeze", [x, this.ints(axes, "axes")], {}, options);
    return this.op("Squeeze", [x], { axes: [...axes] }, options);
  }

  /** Split into pieces of the given sizes along `axis` (sizes as input from opset 13). */
  split(x: string, axis: number, sizes: readonly number[], options: NodeOptions = {}): string[] {
    const opts = { ...options, outputs: options.outputs ?? sizes.length };
    if (this.opset >= 13) return this.node("Split", [x, this.ints(sizes, "split")], { axis }, opts);
    return this.node("Split", [x], { axis, split: [...sizes] }, opts);
  }

  /** Split into `n` equal pieces along `axis` (num_outputs from opset 18). */
  splitEqual(x: string, axis: number, n: number, options: NodeOptions = {}): string[] {
    const opts = { ...options, outputs: options.outputs ?? n };
    return this.node("Split", [x], this.opset >= 18 ? { axis, num_outputs: n } : { axis }, opts);
  }

  /** The model: this graph stamped with the builder's IR version and opset. */
  build(): Model {
    return {
      irVersion: this.irVersion,
      opsetImports: [{ domain: "", version: this.opset }],
      graph: this.graph,
    };
  }
}
