// The whole prompted model with every float weight trainable: the FL full fine-tuning baseline
// (FedAvg of all weights). Built from the source model with the bundle's own split options, so the
// prompted model is the one the split methods train.
import {
  buildLossGradientModel,
  defaultOpset,
  isFloat,
  readModel,
  splitModel,
  GraphSession,
  LABELS,
  LOSS,
  type Model,
  type PartitionManifest,
  type Tensor,
} from "@sfprompt/engine";
import { perSampleFlops } from "../bundle/flops.js";
import type { ModelInputs } from "../bundle/partition-bundle.js";
import { floatOutput, gradSet, labelsTensor, paramTensors } from "../bundle/tensors.js";
import type { ParamSet } from "../training/param-set.js";

/** The whole model's forward and loss-gradient graphs over all its float weights. */
export interface WholeModel {
  readonly forward: Model;
  readonly gradient: Model;
  readonly logits: string;
  /** Every trained tensor, with its initial value (the global parameters' layout). */
  readonly initial: ParamSet;
  readonly flops: { readonly forward: number; readonly step: number };
}

/** The weights FL full fine-tuning trains and ships: every float32 initializer of rank ≥ 1 a node reads. */
export function wholeModelWeightNames(prompted: Model): string[] {
  const g = prompted.graph;
  const read = new Set(g.nodes.flatMap((node) => node.inputs));
  return [...g.initializers]
    .filter(([, t]) => isFloat(t.dtype) && t.dims.length >= 1 && t.dtype === "float32")
    .map(([n]) => n)
    .filter((n) => read.has(n));
}

/**
 * Splits `source` as the bundle was split and makes every float weight (rank ≥ 1) trainable. `dims`
 * fixes symbolic axes for the FLOPs (a text model's sequence: PartitionBundle.symbolicDims()).
 */
export function prepareWholeModel(
  source: Model | string,
  manifest: PartitionManifest,
  dims: Readonly<Record<string, number>> = {},
): WholeModel {
  const model = typeof source === "string" ? readModel(source) : source;
  const o = manifest.options;
  const split = splitModel(model, {
    headBlocks: o.headBlocks,
    promptLength: o.promptLength,
    ...(o.numClasses === null ? {} : { numClasses: o.numClasses }),
    pooling: o.pooling,
    ...(o.cutHead === null ? {} : { cutHead: o.cutHead }),
    ...(o.cutTail === null ? {} : { cutTail: o.cutTail }),
    seed: o.seed,
  });
  const g = split.prompted.graph;
  const names = wholeModelWeightNames(split.prompted);
  const inputs = new Set(g.inputs.map((i) => i.name));
  const forward: Model = {
    ...split.prompted,
    graph: {
      ...g,
      inputs: [
        ...g.inputs,
        ...names
          .filter((n) => !inputs.has(n))
          .map((n) => ({ name: n, dtype: "float32" as const, shape: [...g.initializers.get(n)!.dims] })),
      ],
    },
  };
  const gradient = buildLossGradientModel({
    model: forward,
    opset: defaultOpset(forward),
    logits: split.logits,
    wrt: names,
  });
  const initial: ParamSet = new Map(
    names.map((n) => {
      const t = g.initializers.get(n)!;
      return [n, { data: Float32Array.from(t.data as Float32Array), shape: [...t.dims] }];
    }),
  );
  return {
    forward,
    gradient,
    logits: split.logits,
    initial,
    flops: { forward: perSampleFlops(forward, dims), step: perSampleFlops(gradient, dims) },
  };
}

/** Sessions over the whole model. */
export class WholeModelRunner {
  private constructor(
    readonly model: WholeModel,
    private readonly fwd: GraphSession,
    private readonly grad: GraphSession,
  ) {}

  static async create(model: WholeModel, intraOpThreads = 1): Promise<WholeModelRunner> {
    const opts = { intraOpNumThreads: intraOpThreads };
    return new WholeModelRunner(
      model,
      await GraphSession.create(model.forward, opts),
      await GraphSession.create(model.gradient, opts),
    );
  }

  async logits(x: ModelInputs, params: ParamSet): Promise<Tensor & { data: Float32Array }> {
    const out = await this.fwd.run({ ...x, ...paramTensors(params) }, [this.model.logits]);
    return floatOutput(out, this.model.logits, "whole model");
  }

  async step(
    x: ModelInputs,
    labels: Int32Array,
    params: ParamSet,
  ): Promise<{ loss: number; grads: ParamSet }> {
    const out = await this.grad.run({ ...x, ...paramTensors(params), [LABELS]: labelsTensor(labels) });
    const gradients = Object.fromEntries([...params.keys()].map((n) => [n, `grad_${n}`]));
    return {
      loss: floatOutput(out, LOSS, "whole-model gradient").data[0] as number,
      grads: gradSet(out, params, gradients, "whole-model gradient"),
    };
  }

  async release(): Promise<void> {
    await Promise.all([this.fwd.release(), this.grad.release()]);
  }
}
