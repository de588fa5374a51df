// Builds small test models together with random feeds: inputs, weights and outputs in one place.
import { GraphBuilder, type Dim, type DType, type Model, type Tensor } from "@sfprompt/engine";
import { randomIds, randomTensor, Rng, type RandomSpec } from "./random.js";

export class CaseBuilder {
  readonly b: GraphBuilder;
  readonly feeds: Record<string, Tensor> = {};
  readonly rng: Rng;

  constructor(
    readonly dtype: DType,
    opset = 17,
    seed = 1,
  ) {
    this.b = new GraphBuilder({ opset });
    this.rng = new Rng(seed);
  }

  /** A float graph input with a random feed; `shape` may name symbolic dims (fed with `dims`). */
  x(name: string, dims: readonly number[], spec: RandomSpec = {}, shape?: readonly Dim[]): string {
    this.b.input(name, this.dtype, shape ?? dims);
    this.feeds[name] = randomTensor(this.rng, this.dtype, dims, spec);
    return name;
  }

  /** An int64 graph input of random ids in [0, n). */
  ids(name: string, dims: readonly number[], n: number): string {
    this.b.input(name, "int64", dims);
    this.feeds[name] = randomIds(this.rng, dims, n);
    return name;
  }

  /** A random float initializer (a weight). */
  w(name: string, dims: readonly number[], spec: RandomSpec = {}): string {
    return this.b.initializer(name, randomTensor(this.rng, this.dtype, dims, spec));
  }

  /** Declares graph outputs (dtype of the case; shapes left to inference). */
  out(...names: string[]): void {
    for (const n of names) this.b.output(n, this.dtype);
  }

  model(): Model {
    return this.b.build();
  }
}

/** One node whose output is the model's only output "y". */
export function single(
  c: CaseBuilder,
  opType: string,
  inputs: string[],
  attrs: Parameters<GraphBuilder["op"]>[2] = {},
): void {
  c.b.op(opType, inputs, attrs, { outputs: ["y"] });
  c.out("y");
}
