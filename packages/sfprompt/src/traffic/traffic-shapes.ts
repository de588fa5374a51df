// The shapes that decide a job's traffic: the cut activations (per sample), a text model's masks sent
// beside them, the prompt + tail that the prompt methods ship, and every weight that FL full
// fine-tuning ships. Taken from the splitter's result or a bundle's manifest, so they are the shapes
// the runtime sends; a text model's symbolic sequence axis is bound to the job's sequence length.
import {
  allocValues,
  numel,
  readModelOutline,
  shapeValueKept,
  splitModel,
  type Dim,
  type Model,
  type ModelOutline,
  type PartitionManifest,
  type SplitModel,
  type SplitOptions,
  type Tensor,
  type WantValues,
} from "@sfprompt/engine";
import { wholeModelWeightNames } from "../baselines/whole-model.js";
import { bindDim } from "../bundle/flops.js";
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
  /**
   * Model inputs the body reads besides a_h (a text model's attention mask), per sample: int64, raw,
   * beside a_h on every body.fwd request. Empty for image models.
   */
  readonly bodyMasks: readonly WireTensor[];
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

/** How the model's symbolic axes are bound when frames are sized. */
export interface ShapeOptions {
  /**
   * Tokens per sample of a text job (spec.model.tokenizer.maxLength, default 32; what
   * `textBundleConfig` opens bundles with): the value of the model inputs' symbolic sequence axis.
   */
  readonly sequenceLength?: number;
}

type Bindings = Readonly<Record<string, number>>;

/**
 * Values of the model inputs' symbolic non-batch axes, as PartitionBundle.symbolicDims binds them:
 * each is the sequence length; a model with such an axis and no sequence length cannot be planned.
 */
function inputBindings(
  inputs: readonly { name: string; shape?: readonly Dim[] | undefined }[],
  o: ShapeOptions,
): Bindings {
  const out: Record<string, number> = {};
  for (const i of inputs) {
    for (const d of (i.shape ?? []).slice(1)) {
      if (typeof d !== "string") continue;
      if (o.sequenceLength === undefined) {
        throw new TrafficPlanError(
          `model input ${i.name}`,
          `has a symbolic axis "${d}": for a text model set spec.model.tokenizer (its maxLength, default 32, is the sequence length the frames are sized at); otherwise give the model fixed input sizes`,
        );
      }
      out[d] = o.sequenceLength;
    }
  }
  return out;
}

function sampleShape(name: string, shape: readonly Dim[] | undefined, bindings: Bindings): number[] {
  const dims = (shape ?? []).slice(1).map((d) => bindDim(d, bindings));
  if (shape === undefined || !dims.every((d): d is number => typeof d === "number")) {
    throw new TrafficPlanError(
      name,
      `has shape [${(shape ?? []).map(String).join(", ")}]: every dimension but the batch must be a number to size its frames; give the model fixed input sizes`,
    );
  }
  return dims;
}

/** The body's inputs that are model inputs (its masks), in the body's input order, per sample. */
function masksOf(
  bodyInputs: readonly { name: string; shape?: readonly Dim[] | undefined }[],
  modelInputs: readonly string[],
  bindings: Bindings,
): WireTensor[] {
  return bodyInputs
    .filter((i) => modelInputs.includes(i.name))
    .map((i) => ({ name: i.name, shape: sampleShape(i.name, i.shape, bindings) }));
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
export function trafficShapesOfSplit(split: SplitModel, o: ShapeOptions = {}): TrafficShapes {
  const head = split.head.graph.outputs.find((x) => x.name === split.headOutput);
  const body = split.body.graph.outputs.find((x) => x.name === split.bodyOutput);
  // the model's inputs are the prompted graph's, less its trained parameters (as the manifest lists them)
  const inputs = split.prompted.graph.inputs.filter((i) => !split.parameters.some((p) => p.name === i.name));
  const bindings = inputBindings(inputs, o);
  return {
    headOutput: { name: split.headOutput, shape: sampleShape(split.headOutput, head?.shape, bindings) },
    bodyOutput: { name: split.bodyOutput, shape: sampleShape(split.bodyOutput, body?.shape, bindings) },
    bodyMasks: masksOf(
      split.body.graph.inputs,
      inputs.map((i) => i.name),
      bindings,
    ),
    ...promptTailOf(split.parameters),
    wholeModel: wholeModelShapes(split.prompted),
  };
}

/**
 * Splits `model` as a job would (head blocks, prompt length, classes, pooling) and takes its shapes,
 * a text model's at `o.sequenceLength` tokens per sample.
 */
export function trafficShapesOfModel(
  model: Model,
  options: SplitOptions,
  o: ShapeOptions = {},
): TrafficShapes {
  return trafficShapesOfSplit(splitModel(model, options), o);
}

/** Shapes from a prepared bundle's manifest, with the whole model's weights from `wholeModel`. */
export function trafficShapesOfManifest(
  manifest: PartitionManifest,
  wholeModel: readonly WireTensor[],
  o: ShapeOptions = {},
): TrafficShapes {
  const { head: headName, body: bodyName } = manifest.activations;
  const find = (part: string, name: string): readonly Dim[] | undefined =>
    manifest.partitions.find((p) => p.name === part)?.outputs.find((x) => x.name === name)?.shape;
  const bindings = inputBindings(manifest.inputs, o);
  const body = manifest.partitions.find((p) => p.name === "body");
  return {
    headOutput: { name: headName, shape: sampleShape(headName, find("head", headName), bindings) },
    bodyOutput: { name: bodyName, shape: sampleShape(bodyName, find("body", bodyName), bindings) },
    bodyMasks: masksOf(
      body?.inputs ?? [],
      manifest.inputs.map((i) => i.name),
      bindings,
    ),
    ...promptTailOf(manifest.parameters),
    wholeModel,
  };
}

/**
 * The initializers whose values the split needs from a model read without its weights
 * (readModelOutline's `values`): the small int ones shape inference reads values of, and any of a
 * type carried as raw bytes.
 */
export const SHAPES_ONLY_VALUES: WantValues = (_, t) =>
  t.dtype === "other" || shapeValueKept(t.dtype, numel(t.dims));

/**
 * The model file at `path` as trafficShapesOfModel needs it, without reading its weights
 * (readModelOutline): the graph, the small int initializers shape inference reads values of (and any
 * of a type carried as raw bytes) read from the file, every other weight zeros of its dtype and dims.
 * The split sizes the frames from shapes alone; the zeros are fresh allocations whose pages nothing
 * touches. readModel's errors, an external data file that cannot be opened included (it is not read).
 */
export function shapesOnlyModel(path: string): Model {
  return shapesOnlyOfOutline(readModelOutline(path, { values: SHAPES_ONLY_VALUES, checkExternalData: true }));
}

/**
 * shapesOnlyModel of an outline read already with `values: SHAPES_ONLY_VALUES` (sfprompt validate's
 * model check, which splits the model as the job asks from the outline it read for the inputs).
 */
export function shapesOnlyOfOutline({ model, initializers }: ModelOutline): Model {
  const read = model.graph.initializers;
  const all = new Map<string, Tensor>();
  for (const [name, t] of initializers)
    all.set(
      name,
      read.get(name) ?? { dtype: t.dtype, dims: t.dims, data: allocValues(t.dtype, numel(t.dims)) },
    );
  return { ...model, graph: { ...model.graph, initializers: all } };
}
