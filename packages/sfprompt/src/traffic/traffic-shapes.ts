// The shapes that decide a job's traffic: the cut activations (per sample), the prompt + tail that
// the prompt methods ship, and every weight that FL full fine-tuning ships. Taken from the splitter's
// result or a bundle's manifest, so they are the shapes the runtime sends.
import {
  splitModel,
  type Model,
  type PartitionManifest,
  type SplitModel,
  type SplitOptions,
} from "@sfprompt/engine";
import { wholeModelWeightNames } from "../baselines/whole-model.js";
import { TrafficPlanError } from "./errors.js";

/** A named tensor shape; for activations, the shape of one sample (no batch dimension). */
export interface WireTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface TrafficShapes {
  /** a_h, client → server on body.fwd (and its gradient back). */
  readonly headOutput: WireTensor;
  /** a_b, server → client (and its gradient up). */
  readonly bodyOutput: WireTensor;
  /** The prompt methods' global parameters, in the runtime's order (prompt, then tail). */
  readonly promptTail: readonly WireTensor[];
  /** How many of promptTail are prompt (head) parameters. */
  readonly promptCount: number;
  /** FL full fine-tuning's global parameters: every trained weight of the prompted model. */
  readonly wholeModel: readonly WireTensor[];
}

/** Element count of a list of tensors. */
export function weightCount(tensors: readonly WireTensor[]): number {
  return tensors.reduce((n, t) => n + t.shape.reduce((a, d) => a * d, 1), 0);
}

function sampleShape(name: string, shape: readonly unknown[] | undefined): number[] {
  const dims = (shape ?? []).slice(1);
  if (shape === undefined || !dims.every((d): d is number => typeof d === "number")) {
    throw new TrafficPlanError(
      name,
      `has shape [${(shape ?? []).map(String).join(", ")}]: every dimension but the batch must be a number to size its frames; give the model fixed input sizes`,
    );
  }
  return dims;
}

function promptTailOf(params: readonly { name: string; partition: string; shape: readonly number[] }[]): {
  promptTail: WireTensor[];
  promptCount: number;
} {
  const pick = (p: string): WireTensor[] =>
    params.filter((x) => x.partition === p).map((x) => ({ name: x.name, shape: [...x.shape] }));
  const prompt = pick("head");
  return { promptTail: [...prompt, ...pick("tail")], promptCount: prompt.length };
}

/** The whole prompted model's trained weights with their shapes (what fl-full uploads). */
export function wholeModelShapes(prompted: Model): WireTensor[] {
  const inits = prompted.graph.initializers;
  return wholeModelWeightNames(prompted).map((n) => ({ name: n, shape: [...inits.get(n)!.dims] }));
}

/** Shapes from the splitter's result (what prepareBundle writes into the bundle). */
export function trafficShapesOfSplit(split: SplitModel): TrafficShapes {
  const head = split.head.graph.outputs.find((o) => o.name === split.headOutput);
  const body = split.body.graph.outputs.find((o) => o.name === split.bodyOutput);
  return {
    headOutput: { name: split.headOutput, shape: sampleShape(split.headOutput, head?.shape) },
    bodyOutput: { name: split.bodyOutput, shape: sampleShape(split.bodyOutput, body?.shape) },
    ...promptTailOf(split.parameters),
    wholeModel: wholeModelShapes(split.prompted),
  };
}

/** Splits `model` as a job would (head blocks, prompt length, classes, pooling) and takes its shapes. */
export function trafficShapesOfModel(model: Model, options: SplitOptions): TrafficShapes {
  return trafficShapesOfSplit(splitModel(model, options));
}

/** Shapes from a prepared bundle's manifest, with the whole model's weights from `wholeModel`. */
export function trafficShapesOfManifest(
  manifest: PartitionManifest,
  wholeModel: readonly WireTensor[],
): TrafficShapes {
  const { head: headName, body: bodyName } = manifest.activations;
  const find = (part: string, name: string): readonly unknown[] | undefined =>
    manifest.partitions.find((p) => p.name === part)?.outputs.find((o) => o.name === name)?.shape;
  return {
    headOutput: { name: headName, shape: sampleShape(headName, find("head", headName)) },
    bodyOutput: { name: bodyName, shape: sampleShape(bodyName, find("body", bodyName)) },
    ...promptTailOf(manifest.parameters),
    wholeModel,
  };
}
